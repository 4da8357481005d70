import ApusWire
import ApusTransportXDP
import ApusXSK
import ArgumentParser
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `apus xdp`: the AF_XDP data path's own tools.
struct XDP: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "AF_XDP tools: a UDP reflector on one queue, and the XDP program's counters.",
        subcommands: [Reflect.self, Stats.self]
    )

    /// `apus xdp reflect`: sends every UDP datagram for the owned address back
    /// to its sender, from user space through AF_XDP sockets (frames are
    /// reflected in place: the RX frame becomes the TX frame, no copy). One
    /// socket and one pinned thread per queue.
    struct Reflect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reflect UDP datagrams sent to the owned address back to their sender (AF_XDP, one thread per queue).",
            discussion: """
                Needs root and Apus's XDP program loaded on INTERFACE (README: "Loading the XDP program"). \
                Queue i's thread is pinned to the i-th CPU of --cpus (default: the CPUs this process may use, \
                so `taskset -c 0` pins everything to CPU 0). SIGINT/SIGTERM stop it cleanly.
                """)

        @Option(help: "Interface the XDP program is loaded on.")
        var interface: String
        @Option(name: [.customLong("queues"), .customLong("queue")], help: "RX queues to serve, comma-separated (e.g. 0,1).",
                transform: XDP.parseList)
        var queues: [UInt32] = [0]
        @Option(help: "IPv4 address to claim in the program's owned_ipv4 map.")
        var address: String
        @Option(name: [.customLong("udp-port"), .customLong("port")], help: "Only reflect datagrams to this UDP port (0: any).")
        var port: UInt16 = 0
        @Option(help: "Stop after this many seconds.")
        var duration: Double = 10
        @Option(help: "Stop after reflecting this many datagrams in all (0: no limit).")
        var count = 0
        @Option(help: "UMEM frames per queue.")
        var frames: UInt32 = 4096
        @Option(name: .customLong("zero-copy"), help: "auto: zero copy where the driver supports it, else copy; on: fail without it; off: copy.")
        var zeroCopy: ZeroCopyChoice = .auto
        @Flag(help: "Back the UMEM with 2 MiB huge pages (reserve them first: sysctl vm.nr_hugepages=N).")
        var hugePages = false
        @Flag(help: "Busy-poll the driver from the loop (SO_PREFER_BUSY_POLL) instead of sleeping in poll().")
        var busyPoll = false
        @Option(name: [.customLong("cpus"), .customLong("cpu")], help: "CPUs to pin queue threads to, comma-separated (default: the allowed CPUs).", transform: XDP.parseList)
        var cpus: [UInt32] = []

        func run() throws {
            func fail(_ error: XSKError) -> ExitCode {
                Console.error("apus xdp reflect: \(error)")
                return ExitCode(1)
            }
            guard Set(queues).count == queues.count, !queues.isEmpty else {
                Console.error("apus xdp reflect: --queues lists a queue twice or none: \(queues)")
                throw ExitCode(1)
            }
            let maps: XDPProgramMaps
            do { maps = try XDPProgramMaps(interface: interface) } catch { throw fail(error) }
            guard let owned = IPv4Address(address), let mac = XDPPlacement.macAddress(of: interface) else {
                Console.error(IPv4Address(address) == nil
                    ? "apus xdp reflect: '\(address)' is not an IPv4 address (write it as a dotted quad, e.g. 10.10.0.10)"
                    : "apus xdp reflect: cannot read the MAC address of \(interface) (/sys/class/net/\(interface)/address)")
                throw ExitCode(1)
            }
            var configuration = XSKSocket.Configuration()
            configuration.frameCount = frames
            configuration.mode = zeroCopy.mode
            configuration.hugePages = hugePages
            configuration.busyPoll = busyPoll ? XSKSocket.BusyPoll() : nil
            // Sockets are made and registered here, so a failure on any queue stops everything before traffic moves.
            var boxes: [XSKSocketBox] = []
            defer { for queue in queues { maps.unregister(queue: queue) } }
            for queue in queues {
                do {
                    let socket = try XSKSocket(interface: interface, queue: queue, configuration: configuration)
                    // Register before claiming: claimed traffic with no socket would be passed to the kernel.
                    try maps.register(socketFD: socket.fd, queue: queue)
                    let mode = socket.isZeroCopy ? "zero-copy" : "copy"
                    let polling = socket.isBusyPolling ? ", busy polling" : socket.busyPollProblem.map { ", busy polling off (\($0))" } ?? ""
                    boxes.append(XSKSocketBox(socket, description: "queue \(queue) (\(mode) mode\(polling))"))
                } catch { throw fail(error) }
            }
            do { try maps.claim(ipv4: address) } catch { throw fail(error) }
            defer { maps.release(ipv4: address) }

            let allowed = cpus.isEmpty ? PinnedThread.allowedCPUs() : cpus.map(Int.init)
            let run = ReflectRun(limit: count)
            XDP.installStopSignals()
            Console.out("apus xdp reflect: serving \(address) udp port \(port == 0 ? "any" : String(port)) on \(interface) "
                        + boxes.map(\.description).joined(separator: ", "))
            var threads: [PinnedThread] = []
            for (index, box) in boxes.enumerated() {
                let cpu = allowed[index % allowed.count]
                let reflector = UDPReflector(port: port, address: owned, mac: mac)
                let interface = interface
                do {
                    threads.append(try PinnedThread(name: "apus-xsk-q\(box.queue)", cpu: cpu) {
                        run.serve(box, reflector: reflector, interface: interface, cpu: cpu)
                    })
                } catch {
                    run.stop.store(true, ordering: .relaxed)
                    for thread in threads { thread.join() }
                    throw fail(error)
                }
            }
            let deadline = ContinuousClock.now + .nanoseconds(Int64(duration * 1e9))
            while ContinuousClock.now < deadline && !run.limitReached && !XDP.stopRequested.load(ordering: .relaxed) {
                usleep(5_000)
            }
            // Give the kernel its traffic back first, then stop and drain the queues.
            maps.release(ipv4: address)
            run.stop.store(true, ordering: .relaxed)
            for thread in threads { thread.join() }
            let results = run.results.withLock { $0 }.sorted { $0.queue < $1.queue }
            if results.count > 1 {
                for result in results { Console.out("apus xdp reflect: queue \(result.queue) (cpu \(result.cpu)): \(result.summary)") }
            }
            Console.out("apus xdp reflect: \(QueueResult.total(results))")
        }
    }

    enum ZeroCopyChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, on, off
        var mode: XSKSocket.BindMode {
            switch self {
            case .auto: .auto
            case .on: .zeroCopy
            case .off: .copy
            }
        }
    }

    /// "0,1,3" → [0, 1, 3].
    static func parseList(_ text: String) throws -> [UInt32] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.compactMap { UInt32(String($0.filter { $0 != " " })) }
        guard values.count == parts.count, !values.isEmpty else {
            throw ValidationError("'\(text)' is not a comma-separated list of numbers (e.g. 0,1)")
        }
        return values
    }

    /// SIGINT and SIGTERM ask the loops to stop; the command then drains and unregisters.
    static let stopRequested = Atomic<Bool>(false)

    static func installStopSignals() {
        signal(SIGINT) { _ in XDP.stopRequested.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in XDP.stopRequested.store(true, ordering: .relaxed) }
    }

    /// `apus xdp stats`: the program's per-CPU counters, summed.
    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the XDP program's counters for an interface.")

        @Option(help: "Interface the XDP program is loaded on.")
        var interface: String

        func run() throws {
            do {
                let maps = try XDPProgramMaps(interface: interface)
                let values = try maps.counters()
                Console.out(zip(XDPProgramMaps.counterNames, values).map { "\($0)=\($1)" }.joined(separator: " "))
                // The sockets of a running server or reflector, from the status files their loops write.
                for (queue, line) in XSKStatusFile.read(interface: interface) { Console.out("queue \(queue): \(line)") }
            } catch {
                Console.error("apus xdp stats: \(error)")
                throw ExitCode(1)
            }
        }
    }
}

/// The reflector's per-batch work: completions back to the pool, RX frames
/// turned around in place onto the TX ring, the fill ring topped up.
struct UDPReflector {
    let port: UInt16
    let address: IPv4Address
    let mac: MACAddress
    var received = 0
    var reflected = 0
    var arpReplies = 0
    var dropped = 0

    /// One pass; returns the packets handled.
    mutating func step(_ socket: inout XSKSocket) -> Int {
        socket.reapCompletions()
        let (count, index) = socket.rx.peek(64)
        var sent: UInt32 = 0
        for offset in 0..<count {
            let descriptor = socket.rx.entry(index &+ offset)
            received += 1
            let packet = socket.umem.packet(at: descriptor.address, length: Int(descriptor.length))
            guard let length = turnAround(packet), let slot = socket.tx.reserve(1) else {
                dropped += 1
                socket.umem.free(descriptor.address)
                continue
            }
            socket.tx.slot(slot).pointee = XDPDescriptor(address: descriptor.address, length: UInt32(length))
            sent += 1
            if length == EthernetFrame.headerLength + ARPPacket.length { arpReplies += 1 } else { reflected += 1 }
        }
        if count > 0 { socket.rx.release() }
        if sent > 0 { socket.tx.submit() }
        // Copy mode sends at most 32 descriptors per kick: kick while anything is outstanding.
        if socket.tx.outstanding > 0 { socket.kickTransmit() }
        socket.refill()
        if socket.fill.needsWakeup { socket.kickReceive() }
        return Int(count)
    }

    /// Swaps addresses and ports in place and recomputes the UDP checksum
    /// (a veth sender may leave it partial); returns the reply's length, or
    /// nil for anything that is not a UDP datagram for `port`.
    func turnAround(_ packet: UnsafeMutableRawBufferPointer) -> Int? {
        do throws(WireError) {
            let frame = try EthernetFrame(UnsafeRawBufferPointer(packet))
            if frame.etherType == .arp { return try answerARP(frame, packet) }
            guard frame.etherType == .ipv4 else { return nil }
            let ip = try IPv4Packet(frame.payload)
            guard ip.protocol == .udp, !ip.isFragment, ip.headerLength == IPv4Packet.minimumHeaderLength else { return nil }
            try ip.verifyChecksum()
            let udp = try UDPDatagram(ip.payload)
            guard port == 0 || udp.destinationPort == port else { return nil }
            var ethernet = EthernetRepr(parsing: frame)
            swap(&ethernet.source, &ethernet.destination)
            var ipRepr = try IPv4Repr(parsing: ip)
            swap(&ipRepr.source, &ipRepr.destination)
            var udpRepr = UDPRepr(parsing: udp)
            swap(&udpRepr.sourcePort, &udpRepr.destinationPort)
            let ipStart = frame.headerLength
            let udpStart = ipStart + IPv4Packet.minimumHeaderLength
            try ethernet.emit(into: UnsafeMutableRawBufferPointer(rebasing: packet[..<ipStart]))
            try ipRepr.emit(into: UnsafeMutableRawBufferPointer(rebasing: packet[ipStart...]))
            try udpRepr.emit(into: UnsafeMutableRawBufferPointer(rebasing: packet[udpStart..<(udpStart + udpRepr.bufferLength)]),
                             checksum: .compute(source: ipRepr.source, destination: ipRepr.destination))
            return udpStart + udpRepr.bufferLength
        } catch {
            return nil
        }
    }

    /// Answers an ARP request for the owned address in place (RFC 826);
    /// the kernel has no such address, so nobody else will.
    func answerARP(_ frame: EthernetFrame, _ packet: UnsafeMutableRawBufferPointer) throws(WireError) -> Int? {
        let arp = try ARPPacket(frame.payload)
        guard arp.operation == .request, arp.targetProtocolAddress == address else { return nil }
        let reply = ARPRepr(operation: .reply, senderHardwareAddress: mac, senderProtocolAddress: address,
                            targetHardwareAddress: arp.senderHardwareAddress, targetProtocolAddress: arp.senderProtocolAddress)
        let ethernet = EthernetRepr(destination: arp.senderHardwareAddress, source: mac, etherType: .arp)
        let start = EthernetFrame.headerLength
        try ethernet.emit(into: UnsafeMutableRawBufferPointer(rebasing: packet[..<start]))
        try reply.emit(into: UnsafeMutableRawBufferPointer(rebasing: packet[start..<(start + ARPPacket.length)]))
        return start + ARPPacket.length
    }
}
