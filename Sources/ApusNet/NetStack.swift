import ApusWire

/// A userspace IPv4 host: ARP, ICMP echo, UDP and TCP on one interface.
///
/// Sans-IO and single-threaded. The caller drives it from its device loop:
///
/// 1. `receive(_:at:delivery:)` each received frame (a view into packet memory);
/// 2. `poll(at:transmitter:)` to send what is due: replies, ARP requests, TCP segments
///    (written straight into the caller's TX frames) and the work of expired timers;
/// 3. `nextEvent()` until nil, to learn of accepted, readable, writable and closed
///    connections and queued datagrams;
/// 4. sleep or spin until `nextDeadline` (or the next frame), then repeat.
///
/// Application calls (`connect`, `write`, `read`, `close`) take effect at the next `poll`;
/// UDP `send` transmits at once. Nothing here reads a clock or makes a syscall.
///
/// Timers are per-connection deadlines (retransmission, persist, delayed ACK, keepalive,
/// TIME-WAIT) kept in a timing wheel; `poll` visits only the connections whose timers
/// expired and those with output waiting, so its cost follows the work, not the number of
/// connections. Timers fire exactly at their deadline; `nextDeadline` is the earliest.
public struct NetStack {
    public private(set) var configuration: NetStackConfiguration
    public internal(set) var statistics = NetStatistics()
    /// The neighbor cache.
    public internal(set) var arpCache: ARPCache
    /// When `poll` next has work (a timer, or output that is already waiting: then it is
    /// the time of the call that queued it).
    public internal(set) var nextDeadline = NetInstant.distantFuture

    var pendingReplies: [PendingReply] = []
    var pendingRepliesStart = 0
    var udpEndpoints: [UInt16: UDPEndpoint] = [:]
    var listeners: [UInt16: TCPListener] = [:]
    var connections: [TCPConnection?] = []
    var generations: [UInt32] = []
    var freeSlots: [Int] = []
    var connectionIndex: [TCPFourTuple: Int] = [:]
    /// Connection timers; per slot, the deadline set in the wheel (`distantFuture`: none).
    var timers = TimerWheel()
    var timerScheduled: [NetInstant] = []
    /// Connections with output waiting for the next `poll` (and a flag per slot, so each is
    /// listed once); those whose next hop is being resolved wait in `neighborWaiters`.
    var active: [Int] = []
    var isActive: [Bool] = []
    var neighborWaiters: [Int] = []
    /// Scratch for `poll`: the connections to visit, and the poll each was last visited in.
    var visitList: [Int] = []
    var lastVisit: [UInt32] = []
    var pollEpoch: UInt32 = 0
    var liveConnections = 0
    /// When `poll` next walks the connections for idle buffers (`idleBufferRelease`).
    var nextIdleSweep = NetInstant.zero
    /// Connections that received data this period and the last (a period is `idleBufferRelease`):
    /// what `receiveWindowBudget` is divided by.
    var receiversThisPeriod = 0
    var receiversLastPeriod = 0
    var nextReceivePeriod = NetInstant.zero
    var bufferMemory: BufferMemory
    var events: [NetEvent] = []
    var eventsStart = 0
    var nextEphemeralPort: UInt16
    /// The source MAC of the frame being received, for stateless replies.
    var receivingFrom = MACAddress.zero
    /// When we last announced an address someone else claimed (RFC 5227 §2.4).
    var lastAddressDefense: NetInstant?

    /// A stateless reply waiting for a TX frame.
    enum PendingReply {
        case arp(ARPRepr, to: MACAddress)
        /// `via` is the MAC the segment being answered came from, if any: a reply goes back the
        /// way the request came without waiting for ARP.
        case tcp(TCPRepr, source: IPv4Address, destination: IPv4Address, via: MACAddress?)
        case echo(ICMPv4Repr, source: IPv4Address, destination: IPv4Address, data: [UInt8], via: MACAddress)
        /// A whole IPv4 packet that waited for its neighbor to resolve.
        case packet([UInt8], to: MACAddress)
    }

    public init(configuration: NetStackConfiguration) {
        precondition(!configuration.interface.addresses.isEmpty, "an interface needs an IPv4 address")
        self.configuration = configuration
        arpCache = ARPCache(configuration: configuration.arp)
        bufferMemory = BufferMemory(limit: configuration.maximumBufferMemory)
        let range = configuration.ephemeralPorts
        nextEphemeralPort = range.lowerBound &+ UInt16(truncatingIfNeeded: configuration.secret.0 % UInt64(range.count))
        events.reserveCapacity(256)
        pendingReplies.reserveCapacity(configuration.maximumPendingReplies)
    }

    var interface: InterfaceConfiguration { configuration.interface }

    // MARK: Receive

    /// Processes one received frame. Unless `delivery` consumes it in place, payload is
    /// copied into the receiving socket's buffer; nothing else is kept past the call.
    public mutating func receive<D: NetDelivery>(_ frame: UnsafeRawBufferPointer, at now: NetInstant,
                                                 delivery: inout D) {
        statistics.framesReceived += 1
        let ethernet: EthernetFrame
        do {
            ethernet = try EthernetFrame(frame)
        } catch {
            statistics.droppedMalformed += 1
            return
        }
        let destination = ethernet.destination
        receivingFrom = ethernet.source
        guard destination == interface.macAddress || destination.isBroadcast else {
            statistics.droppedNotForUs += 1
            return
        }
        // A frame of another VLAN (or tagged while the stack is on the untagged link, or the
        // reverse) belongs to a segment the stack is not on: answering it would put the reply
        // on the wrong one.
        guard ethernet.vlanTag?.identifier == interface.vlan else {
            statistics.droppedVLAN += 1
            return
        }
        switch ethernet.etherType {
        case .arp:
            receiveARP(ethernet.payload, at: now)
        case .ipv4:
            receiveIPv4(ethernet.payload, at: now, delivery: &delivery)
        default:
            statistics.droppedUnknownEtherType += 1
        }
    }

    /// `receive(_:at:delivery:)` with every payload buffered.
    public mutating func receive(_ frame: UnsafeRawBufferPointer, at now: NetInstant) {
        var delivery = BufferedDelivery()
        receive(frame, at: now, delivery: &delivery)
    }

    private mutating func receiveIPv4<D: NetDelivery>(_ bytes: UnsafeRawBufferPointer, at now: NetInstant,
                                                      delivery: inout D) {
        let packet: IPv4Packet
        do {
            packet = try IPv4Packet(bytes)
        } catch {
            statistics.droppedMalformed += 1
            return
        }
        do {
            try packet.verifyChecksum()
        } catch {
            statistics.droppedBadChecksum += 1
            return
        }
        // Apus does not reassemble (RFC 791 §3.2 makes it a host duty; peers do path MTU
        // discovery with DF set, so fragments are strays).
        guard !packet.isFragment else {
            statistics.droppedFragments += 1
            return
        }
        let destination = packet.destination
        let isBroadcast = destination.isBroadcast || interface.subnet?.broadcast == destination
        guard interface.owns(destination) || isBroadcast else {
            statistics.droppedNotForUs += 1
            return
        }
        switch packet.protocol {
        case .icmp:
            guard !isBroadcast else { statistics.icmpIgnored += 1; return }
            receiveICMP(packet, at: now)
        case .udp:
            receiveUDP(packet, at: now, delivery: &delivery)
        case .tcp:
            guard !isBroadcast else { statistics.droppedNotForUs += 1; return }
            receiveTCP(packet, at: now, delivery: &delivery)
        default:
            statistics.droppedUnknownProtocol += 1
        }
    }

    /// RFC 792 echo: answered for owned addresses with the same identifier, sequence number
    /// and data; every other ICMP message is counted and ignored.
    private mutating func receiveICMP(_ packet: IPv4Packet, at now: NetInstant) {
        let message: ICMPv4Packet
        do {
            message = try ICMPv4Packet(packet.payload)
        } catch {
            statistics.droppedMalformed += 1
            return
        }
        do {
            try message.verifyChecksum()
        } catch {
            statistics.droppedBadChecksum += 1
            return
        }
        guard let repr = try? ICMPv4Repr(parsing: message), repr.type == .echoRequest,
              repr.bufferLength + IPv4Packet.minimumHeaderLength <= interface.mtu else {
            statistics.icmpIgnored += 1
            return
        }
        queueReply(.echo(repr.reply, source: packet.destination, destination: packet.source,
                         data: Array(message.payload), via: receivingFrom), at: now)
    }

    // MARK: Output

    enum Resolution {
        case resolved(MACAddress)
        case pending
        case noRoute
    }

    /// The MAC of `destination`'s next hop: the destination itself when on-link, else the
    /// gateway (RFC 1122 §3.3.1.1). Starts resolution when it is unknown.
    mutating func resolve(_ destination: IPv4Address, at now: NetInstant) -> Resolution {
        if destination.isBroadcast || interface.subnet?.broadcast == destination { return .resolved(.broadcast) }
        var nextHop = destination
        if let subnet = interface.subnet, !subnet.contains(destination) {
            guard let gateway = interface.gateway else { return .noRoute }
            nextHop = gateway
        }
        if let mac = arpCache.lookup(nextHop, at: now) { return .resolved(mac) }
        if let mac = configuration.sharedNeighbours?.lookup(nextHop, at: now) {
            _ = arpCache.learn(nextHop, at: mac, now: now)  // nothing waits: it was not pending here
            return .resolved(mac)
        }
        if arpCache.startResolving(nextHop, now: now) { nextDeadline = min(nextDeadline, now) }
        return .pending
    }

    /// The next hop for `destination`, for queueing a packet on its resolution.
    func nextHop(for destination: IPv4Address) -> IPv4Address {
        if let subnet = interface.subnet, !subnet.contains(destination), let gateway = interface.gateway { return gateway }
        return destination
    }

    func link(to mac: MACAddress) -> EthernetRepr { interface.link(to: mac, .ipv4) }

    /// Queues a stateless reply. Replies to what arrives are bounded by `maximumPendingReplies`
    /// (a flood must not grow the queue); `bounded: false` is for the RSTs of the application's
    /// own aborts, which the connection table already bounds (one per connection) and which
    /// must not be lost when many connections are aborted in one tick (deadlines expiring
    /// together), or the peers would be left with half-open connections.
    mutating func queueReply(_ reply: PendingReply, bounded: Bool = true, at now: NetInstant) {
        guard !bounded || pendingReplies.count - pendingRepliesStart < configuration.maximumPendingReplies else {
            statistics.replyQueueDrops += 1
            return
        }
        pendingReplies.append(reply)
        nextDeadline = min(nextDeadline, now)
    }

    /// Sends queued replies in order. Returns false when the transmitter ran out of frames.
    private mutating func flushReplies<T: FrameTransmitter & ~Copyable>(at now: NetInstant, transmitter: inout T) -> Bool {
        while pendingRepliesStart < pendingReplies.count {
            let reply = pendingReplies[pendingRepliesStart]
            var sent = false
            var dropped = false
            switch reply {
            case .arp(let arp, let mac):
                let link = interface.link(to: mac, .arp)
                sent = FrameWriter.transmit(&transmitter, link: link, arp: arp)
            case .packet(let bytes, let mac):
                let link = link(to: mac)
                let total = link.headerLength + bytes.count
                sent = transmitter.transmit(maximumLength: total) { frame in
                    guard frame.count >= total else { return 0 }
                    bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: frame[link.headerLength...]).copyMemory(from: $0) }
                    do { try link.emit(into: frame) } catch { return 0 }
                    return total
                }
            case .tcp(let tcp, let source, let destination, let via):
                guard case .resolved(let mac) = via.map(Resolution.resolved) ?? resolve(destination, at: now) else {
                    dropped = true
                    break
                }
                let ip = IPv4Repr(source: source, destination: destination, protocol: .tcp, payloadLength: tcp.bufferLength)
                sent = FrameWriter.transmit(&transmitter, link: link(to: mac), ip: ip) { segment in
                    try? tcp.emit(into: segment, checksum: .compute(source: source, destination: destination))
                }
                if sent && tcp.flags.contains(.rst) { statistics.tcpResetsSent += 1 }
            case .echo(let icmp, let source, let destination, let data, let via):
                let ip = IPv4Repr(source: source, destination: destination, protocol: .icmp, payloadLength: icmp.bufferLength)
                sent = FrameWriter.transmit(&transmitter, link: link(to: via), ip: ip) { message in
                    data.withUnsafeBytes {
                        UnsafeMutableRawBufferPointer(rebasing: message[icmp.headerLength...]).copyMemory(from: $0)
                    }
                    try? icmp.emit(into: message)
                }
                if sent { statistics.icmpEchoReplies += 1 }
            }
            if dropped {
                statistics.arpQueueDrops += 1
            } else {
                guard sent else { return false }
                statistics.framesSent += 1
            }
            pendingRepliesStart += 1
        }
        pendingReplies.removeAll(keepingCapacity: true)
        pendingRepliesStart = 0
        return true
    }

    // MARK: Poll

    /// Sends everything that is due at `now` through `transmitter`: pending replies, ARP
    /// requests, TCP segments (new data, ACKs, retransmissions after the timers that expired).
    /// Stops early when the transmitter has no frame; what was not sent stays queued.
    public mutating func poll<T: FrameTransmitter & ~Copyable>(at now: NetInstant, transmitter: inout T) {
        var blocked = !sendARPRequests(at: now, transmitter: &transmitter)
        if !blocked { blocked = !flushReplies(at: now, transmitter: &transmitter) }
        var deadline = blocked ? now : NetInstant.distantFuture
        // Visit the connections whose timers expired and those with output waiting.
        visitList.removeAll(keepingCapacity: true)
        timers.expire(upTo: now) { index in
            timerScheduled[index] = .distantFuture
            visitList.append(index)
        }
        for index in active where isActive[index] {
            isActive[index] = false
            visitList.append(index)
        }
        active.removeAll(keepingCapacity: true)
        pollEpoch &+= 1
        for index in visitList {
            guard connections[index] != nil, lastVisit[index] != pollEpoch else { continue }
            lastVisit[index] = pollEpoch
            if let port = withConnection(index, { $0.listenerPort }), let listener = listeners[port], now < listener.overflowedUntil {
                connections[index]!.halfOpenUnderPressure = true
            }
            if connections[index]!.handleTimers(at: now) { statistics.tcpTimeouts += 1 }
            var waitingForNeighbor = false
            while !blocked, let segment = withConnection(index, { $0.nextSegment(at: now) }) {
                switch transmitSegment(segment, of: index, at: now, transmitter: &transmitter) {
                case .sent: continue
                case .noFrame: blocked = true
                case .waiting:
                    // The next hop does not answer ARP: the retransmission timer still runs, so an
                    // active open gives up after its SYN retries (.timedOut) instead of waiting forever.
                    waitingForNeighbor = true
                    connections[index]!.armRetransmitTimer(at: now)
                }
                break
            }
            connections[index]!.updatePersistTimer(at: now)
            if let status = connections[index]?.status() {
                scheduleTimer(index, at: status.nextDeadline)
                if waitingForNeighbor {
                    neighborWaiters.append(index)
                } else if status.wantsToSend && blocked {
                    markActive(index)
                    deadline = now
                }
                connectionChanged(index, status: status, at: now)
            }
        }
        deadline = min(deadline, timers.nextExpiry())
        if let sweep = sweepIdleBuffers(at: now) { deadline = min(deadline, sweep) }
        if let period = countReceivers(at: now) { deadline = min(deadline, period) }
        if pendingRepliesStart < pendingReplies.count { deadline = now }
        // Connections may have started resolutions during the round.
        nextDeadline = min(deadline, arpCache.nextDeadline)
    }

    enum SegmentTransmission { case sent, noFrame, waiting }

    /// Once per `idleBufferRelease`, connections idle since the last walk give back the
    /// storage of their drained buffers. Returns when to walk next, nil while no connection
    /// holds buffer storage (the loop need not wake for it).
    private mutating func sweepIdleBuffers(at now: NetInstant) -> NetInstant? {
        guard bufferMemory.inUse > liveConnections * Self.connectionOverhead else { return nil }
        if now >= nextIdleSweep {
            nextIdleSweep = now + configuration.idleBufferRelease
            for index in connections.indices where connections[index] != nil {
                connections[index]!.sweepIdleBuffers(memory: &bufferMemory)
            }
        }
        return nextIdleSweep
    }

    /// With a `receiveWindowBudget`: once a period, the connections that received data in it
    /// become the count the budget is divided by. Returns when the period ends, nil while no
    /// connection is receiving (the loop need not wake for it).
    private mutating func countReceivers(at now: NetInstant) -> NetInstant? {
        guard configuration.receiveWindowBudget != nil, receiversThisPeriod > 0 || receiversLastPeriod > 0 else { return nil }
        if now >= nextReceivePeriod {
            nextReceivePeriod = now + configuration.idleBufferRelease
            receiversLastPeriod = receiversThisPeriod
            receiversThisPeriod = 0
            for index in connections.indices where connections[index] != nil {
                connections[index]!.receivedThisPeriod = false
            }
        }
        return nextReceivePeriod
    }

    /// A connection's share of `receiveWindowBudget`: the budget over the connections receiving
    /// data, at least four full segments (Int.max without a budget).
    var receiveWindowShare: Int {
        guard let budget = configuration.receiveWindowBudget else { return .max }
        return max(budget / max(receiversThisPeriod, receiversLastPeriod, 1), 4 * (interface.mtu - 40))
    }

    /// Reads or changes the connection at `index` where it lies. A field read through
    /// `connections[index]!` copies the whole optional first, retaining every buffer it holds,
    /// on each call; an inout access works in place.
    @inline(__always)
    mutating func withConnection<R>(_ index: Int, _ body: (inout TCPConnection) -> R) -> R {
        body(&connections[index]!)
    }

    /// Lists a connection for the next `poll`.
    mutating func markActive(_ index: Int) {
        guard !isActive[index] else { return }
        isActive[index] = true
        active.append(index)
    }

    /// Makes the wheel fire for `index` at `deadline`, its connection's next timer
    /// (`distantFuture`: none).
    mutating func scheduleTimer(_ index: Int, at deadline: NetInstant) {
        guard deadline != timerScheduled[index] else { return }
        timerScheduled[index] = deadline
        timers.set(index, at: deadline)
    }

    /// A neighbor was learned: connections waiting on resolution try again.
    mutating func wakeNeighborWaiters(at now: NetInstant) {
        guard !neighborWaiters.isEmpty else { return }
        for index in neighborWaiters where index < connections.count && connections[index] != nil { markActive(index) }
        neighborWaiters.removeAll(keepingCapacity: true)
        nextDeadline = min(nextDeadline, now)
    }

    private mutating func transmitSegment<T: FrameTransmitter & ~Copyable>(_ segment: TCPOutgoing, of index: Int, at now: NetInstant,
                                                               transmitter: inout T) -> SegmentTransmission {
        let (tuple, linkAddress) = withConnection(index) { ($0.tuple, $0.linkAddress) }
        let mac: MACAddress
        if let linkAddress {
            mac = linkAddress
        } else {
            switch resolve(tuple.remoteAddress, at: now) {
            case .resolved(let resolved): mac = resolved
            case .pending, .noRoute: return .waiting
            }
        }
        let repr = segment.repr
        let ip = IPv4Repr(source: tuple.localAddress, destination: tuple.remoteAddress, protocol: .tcp,
                          payloadLength: repr.bufferLength)
        let sent = FrameWriter.transmit(&transmitter, link: link(to: mac), ip: ip) { bytes in
            // The payload is summed as it is copied out of the send buffer, so emit reads only the header.
            var payloadSum = InternetChecksum()
            if repr.payloadLength > 0 {
                let start = repr.headerLength
                withConnection(index) {
                    $0.sendBuffer.copy(fromOffset: segment.payloadOffset,
                                       into: UnsafeMutableRawBufferPointer(rebasing: bytes[start..<(start + repr.payloadLength)]),
                                       summing: &payloadSum)
                }
            }
            try? repr.emit(into: bytes, checksum: .computeWithPayloadSum(
                source: tuple.localAddress, destination: tuple.remoteAddress, payload: payloadSum,
                payloadLength: repr.payloadLength))
        }
        guard sent else { return .noFrame }
        statistics.framesSent += 1
        statistics.tcpSegmentsSent += 1
        if segment.kind == .fastRetransmit { statistics.tcpFastRetransmits += 1 }
        if segment.kind == .sackRetransmit { statistics.tcpSACKRetransmits += 1 }
        if connections[index]!.didTransmit(segment, at: now) { statistics.tcpRetransmissions += 1 }
        return .sent
    }

    // MARK: Events

    /// The next event, oldest first, or nil when there are none.
    public mutating func nextEvent() -> NetEvent? {
        guard eventsStart < events.count else {
            if !events.isEmpty {
                events.removeAll(keepingCapacity: true)
                eventsStart = 0
            }
            return nil
        }
        defer { eventsStart += 1 }
        return events[eventsStart]
    }

    mutating func post(_ event: NetEvent) {
        events.append(event)
    }
}
