import CXDP
#if canImport(Glibc)
import Glibc
#endif

/// One AF_XDP socket bound to one NIC queue, with its own UMEM and the four
/// rings (DESIGN decision 5: one socket, one thread, one queue).
///
/// Setup uses raw syscalls (socket, setsockopt XDP_UMEM_REG and ring sizes,
/// getsockopt XDP_MMAP_OFFSETS, mmap, bind); everything after is ring
/// memory and the occasional wakeup syscall.
public struct XSKSocket: ~Copyable {
    public struct Configuration: Sendable {
        public var frameCount: UInt32 = 4096
        public var frameSize: UInt32 = 4096
        /// Bytes the kernel leaves free before each received packet (room to
        /// prepend headers without moving the payload).
        public var frameHeadroom: UInt32 = 0
        /// Back the UMEM with 2 MiB pages (reserved with vm.nr_hugepages).
        public var hugePages = false
        /// Entries in each ring (power of two). By default half of `frameCount` (at least 2048):
        /// the fill ring then holds half of the UMEM for a burst to land in, where a fixed 2048
        /// left most of a large UMEM idle while a burst from many connections (10,000 calls at
        /// once) overflowed the fill and RX rings and was dropped.
        public var ringSize: UInt32 {
            get { chosenRingSize ?? Self.ringSize(forFrames: frameCount) }
            set { chosenRingSize = newValue }
        }
        private var chosenRingSize: UInt32?
        /// How packets move between the driver and the UMEM.
        public var mode: BindMode = .auto
        /// Busy polling: the application's syscalls drive the driver's NAPI
        /// instead of interrupts (SO_PREFER_BUSY_POLL). nil: interrupt driven.
        public var busyPoll: BusyPoll?
        public init() {}

        /// The default ring size for `frames` UMEM frames: the largest power of two not above
        /// half of them, and at least 2048.
        public static func ringSize(forFrames frames: UInt32) -> UInt32 {
            let half = max(frames / 2, 1)
            return max(2048, UInt32(1) << (31 - UInt32(half.leadingZeroBitCount)))
        }
    }

    public enum BindMode: String, Sendable, CaseIterable {
        /// Copy mode: works everywhere (veth, generic XDP); one copy per packet.
        case copy
        /// Zero copy: the driver DMAs into the UMEM; binding fails where unsupported.
        case zeroCopy = "zero-copy"
        /// Zero copy when the driver supports it, copy otherwise (the kernel's own
        /// fallback when neither XDP_COPY nor XDP_ZEROCOPY is asked for).
        case auto
    }

    public struct BusyPoll: Sendable, Hashable {
        /// SO_BUSY_POLL: how long one syscall may spin on the driver.
        public var microseconds: UInt32
        /// SO_BUSY_POLL_BUDGET: packets the driver may handle per busy poll.
        public var budget: UInt32
        public init(microseconds: UInt32 = 20, budget: UInt32 = 64) {
            self.microseconds = microseconds
            self.budget = budget
        }
    }

    public let fd: Int32
    public let interface: String
    public let interfaceIndex: UInt32
    public let queue: UInt32
    /// Whether the kernel bound in zero-copy mode (XDP_OPTIONS after bind).
    public let isZeroCopy: Bool
    /// Whether busy polling was asked for and the kernel accepted every option.
    public let isBusyPolling: Bool
    /// Why busy polling is off although it was asked for (an old kernel, say).
    public let busyPollProblem: String?
    package var umem: UMEM
    package var fill: XSKProducerRing<UInt64>
    package var completion: XSKConsumerRing<UInt64>
    package var rx: XSKConsumerRing<XDPDescriptor>
    package var tx: XSKProducerRing<XDPDescriptor>
    private let mappings: [(UnsafeMutableRawPointer, Int)]

    public init(interface: String, queue: UInt32, configuration: Configuration = Configuration()) throws(XSKError) {
        let index = if_nametoindex(interface)
        guard index != 0 else {
            throw XSKError("interface \(interface)", errno: errno,
                           hint: "no interface named \(interface) in this network namespace (is the testbed up? scripts/testbed.sh up)")
        }
        let fd = try syscall("socket(AF_XDP)") { socket(cxdp_af_xdp, Int32(SOCK_RAW.rawValue), 0) }
        var umem: UMEM
        do { umem = try UMEM(frameCount: configuration.frameCount, frameSize: configuration.frameSize, hugePages: configuration.hugePages) } catch {
            close(fd)
            throw error
        }
        var mapped: [(UnsafeMutableRawPointer, Int)] = []
        func fail(_ error: XSKError) -> XSKError {
            for (pointer, length) in mapped { munmap(pointer, length) }
            close(fd)
            return error
        }
        var registration = xdp_umem_reg()
        registration.addr = UInt64(UInt(bitPattern: umem.base))
        registration.len = UInt64(umem.length)
        registration.chunk_size = configuration.frameSize
        registration.headroom = configuration.frameHeadroom
        do {
            try Self.setOption(fd, XDP_UMEM_REG, &registration, "setsockopt(XDP_UMEM_REG)")
            var size = configuration.ringSize
            try Self.setOption(fd, XDP_UMEM_FILL_RING, &size, "setsockopt(XDP_UMEM_FILL_RING)")
            try Self.setOption(fd, XDP_UMEM_COMPLETION_RING, &size, "setsockopt(XDP_UMEM_COMPLETION_RING)")
            try Self.setOption(fd, XDP_RX_RING, &size, "setsockopt(XDP_RX_RING)")
            try Self.setOption(fd, XDP_TX_RING, &size, "setsockopt(XDP_TX_RING)")
        } catch { throw fail(error) }

        var offsets = xdp_mmap_offsets()
        var offsetsLength = socklen_t(MemoryLayout<xdp_mmap_offsets>.size)
        guard getsockopt(fd, cxdp_sol_xdp, XDP_MMAP_OFFSETS, &offsets, &offsetsLength) == 0 else {
            throw fail(XSKError("getsockopt(XDP_MMAP_OFFSETS)", errno: errno))
        }
        func map(_ ring: xdp_ring_offset, entry: Int, pageOffset: Int64, _ name: String) throws(XSKError) -> XSKRingMemory {
            let length = Int(ring.desc) + Int(configuration.ringSize) * entry
            let pointer = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, off_t(pageOffset))
            guard let pointer, pointer != MAP_FAILED else { throw XSKError("mmap of the \(name) ring", errno: errno) }
            mapped.append((pointer, length))
            return XSKRingMemory(
                producer: (pointer + Int(ring.producer)).assumingMemoryBound(to: UInt32.self),
                consumer: (pointer + Int(ring.consumer)).assumingMemoryBound(to: UInt32.self),
                flags: (pointer + Int(ring.flags)).assumingMemoryBound(to: UInt32.self),
                descriptors: pointer + Int(ring.desc), size: configuration.ringSize)
        }
        let fillMemory, completionMemory, rxMemory, txMemory: XSKRingMemory
        do {
            fillMemory = try map(offsets.fr, entry: 8, pageOffset: Int64(XDP_UMEM_PGOFF_FILL_RING), "fill")
            completionMemory = try map(offsets.cr, entry: 8, pageOffset: Int64(XDP_UMEM_PGOFF_COMPLETION_RING), "completion")
            rxMemory = try map(offsets.rx, entry: 16, pageOffset: Int64(XDP_PGOFF_RX_RING), "RX")
            txMemory = try map(offsets.tx, entry: 16, pageOffset: Int64(XDP_PGOFF_TX_RING), "TX")
        } catch { throw fail(error) }

        var address = sockaddr_xdp()
        address.sxdp_family = UInt16(cxdp_af_xdp)
        address.sxdp_ifindex = index
        address.sxdp_queue_id = queue
        let modeFlag: Int32 = switch configuration.mode {
        case .copy: XDP_COPY
        case .zeroCopy: XDP_ZEROCOPY
        case .auto: 0
        }
        address.sxdp_flags = UInt16(modeFlag | XDP_USE_NEED_WAKEUP)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_xdp>.size)) }
        }
        guard bound == 0 else {
            let code = errno
            let hint: String = switch code {
            case EOPNOTSUPP where configuration.mode == .zeroCopy:
                "the driver of \(interface) has no zero-copy AF_XDP support, or the XDP program is attached in skb mode; use --zero-copy auto or off"
            case EINVAL: "queue \(queue) does not exist on \(interface) (see `ethtool -l \(interface)`), or the mode is unsupported"
            default: ""
            }
            throw fail(XSKError("bind of an AF_XDP socket to \(interface) queue \(queue)", errno: code, hint: hint))
        }
        var options = xdp_options()
        var optionsLength = socklen_t(MemoryLayout<xdp_options>.size)
        let zeroCopy = getsockopt(fd, cxdp_sol_xdp, XDP_OPTIONS, &options, &optionsLength) == 0
            && options.flags & UInt32(XDP_OPTIONS_ZEROCOPY) != 0
        var busyPollProblem: String?
        if let busyPoll = configuration.busyPoll {
            // Each option is independent of the bind; a kernel without them keeps working interrupt driven.
            let options: [(Int32, Int32, String)] = [
                (SO_PREFER_BUSY_POLL, 1, "SO_PREFER_BUSY_POLL"),
                (SO_BUSY_POLL, Int32(clamping: busyPoll.microseconds), "SO_BUSY_POLL"),
                (SO_BUSY_POLL_BUDGET, Int32(clamping: busyPoll.budget), "SO_BUSY_POLL_BUDGET"),
            ]
            for (name, value, label) in options {
                var value = value
                if setsockopt(fd, SOL_SOCKET, name, &value, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                    busyPollProblem = "setsockopt(\(label)): \(String(cString: strerror(errno)))"
                    break
                }
            }
        }
        self.fd = fd
        self.interface = interface
        self.interfaceIndex = index
        self.queue = queue
        self.isZeroCopy = zeroCopy
        self.isBusyPolling = configuration.busyPoll != nil && busyPollProblem == nil
        self.busyPollProblem = busyPollProblem
        self.umem = umem
        self.fill = XSKProducerRing(fillMemory)
        self.completion = XSKConsumerRing(completionMemory)
        self.rx = XSKConsumerRing(rxMemory)
        self.tx = XSKProducerRing(txMemory)
        self.mappings = mapped
    }

    deinit {
        for (pointer, length) in mappings { munmap(pointer, length) }
        close(fd)
    }

    private static func setOption<T>(_ fd: Int32, _ name: Int32, _ value: inout T, _ what: String) throws(XSKError) {
        guard setsockopt(fd, cxdp_sol_xdp, name, &value, socklen_t(MemoryLayout<T>.size)) == 0 else {
            throw XSKError(what, errno: errno)
        }
    }

    /// Moves up to `maximum` free frames into the fill ring; returns how many.
    @discardableResult
    public mutating func refill(maximum: UInt32 = 64) -> UInt32 {
        let wanted = min(maximum, UInt32(umem.freeCount))
        // Never more than the ring has room for: reserve is all-or-nothing.
        let count = min(wanted, fill.freeSlots(wanted: wanted))
        guard count > 0, let index = fill.reserve(count) else { return 0 }
        for offset in 0..<count { fill.slot(index &+ offset).pointee = umem.allocate()! }
        fill.submit()
        return count
    }

    /// Returns sent frames from the completion ring to the free pool.
    @discardableResult
    public mutating func reapCompletions(maximum: UInt32 = 64) -> UInt32 {
        let (count, index) = completion.peek(maximum)
        for offset in 0..<count { umem.free(completion.entry(index &+ offset)) }
        if count > 0 { completion.release() }
        return count
    }

    /// Tells the kernel to process the TX ring. In copy mode it sends at most
    /// 32 descriptors per call, so callers kick on every loop iteration while
    /// sends are outstanding (DESIGN.md facts).
    public func kickTransmit() {
        _ = sendto(fd, nil, 0, Int32(MSG_DONTWAIT), nil, 0)
    }

    /// Wakes the kernel's receive path when it asked (fill ring needs wakeup).
    public func kickReceive() {
        _ = recvfrom(fd, nil, 0, Int32(MSG_DONTWAIT), nil, nil)
    }

    /// Waits up to `nanoseconds` for received packets.
    public func waitForPackets(nanoseconds: UInt64) {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = cxdp_poll_ns(&descriptor, 1, Int64(min(nanoseconds, 10_000_000_000)))
    }

    /// Waits up to `milliseconds` for received packets.
    public func waitForPackets(milliseconds: Int32) {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = poll(&descriptor, 1, milliseconds)
    }

    /// The kernel's drop counters for this socket (XDP_STATISTICS).
    public func statistics() throws(XSKError) -> xdp_statistics {
        var stats = xdp_statistics()
        var length = socklen_t(MemoryLayout<xdp_statistics>.size)
        guard getsockopt(fd, cxdp_sol_xdp, XDP_STATISTICS, &stats, &length) == 0 else {
            throw XSKError("getsockopt(XDP_STATISTICS)", errno: errno)
        }
        return stats
    }
}
