@testable import ApusNet
import ApusTesting
import ApusWire
import Testing

/// Drives one TCP connection the smoltcp way: the test plays the peer, `send`s
/// segments into the stack and `expect`s the exact segments it answers with.
///
/// Options are off by default (no timestamps, no window scaling) so expected
/// segments are short to write; buffers are 32 KiB so the window is 32768
/// minus what is buffered.
struct TCPHarness {
    static let localPort: UInt16 = 80
    static let remotePort: UInt16 = 49_500
    static let bufferSize = 32_768
    static let mss = 1460

    var stack: NetStack
    var now = NetInstant.seconds(10)
    /// The peer's initial sequence number.
    var remoteISN = SequenceNumber(1_000)
    var handle: TCPHandle?
    var events: [NetEvent] = []

    init(timestamps: Bool = false, windowScaling: Bool = false, _ configure: (inout NetStackConfiguration) -> Void = { _ in }) {
        var configuration = Host.configuration()
        configuration.tcp.timestamps = timestamps
        configuration.tcp.windowScaling = windowScaling
        configuration.tcp.sendBufferSize = Self.bufferSize
        configuration.tcp.receiveBufferSize = Self.bufferSize
        configure(&configuration)
        stack = NetStack(configuration: configuration)
        _ = stack.arpCache.learn(Host.remoteIP, at: Host.remoteMAC, now: now)
    }

    var tuple: TCPFourTuple {
        TCPFourTuple(localAddress: Host.localIP, localPort: Self.localPort, remoteAddress: Host.remoteIP,
                     remotePort: Self.remotePort)
    }

    var connection: TCPConnection? {
        stack.connectionIndex[tuple].flatMap { stack.connections[$0] }
    }

    /// Our initial sequence number (read from the connection, as the stack chose it; kept
    /// once the handshake is done so tests can still use it after the connection is gone).
    var localISN: SequenceNumber { connection?.iss ?? savedISN! }
    var savedISN: SequenceNumber?

    var state: TCPState? { connection?.state }

    // MARK: Segments

    /// A segment from the peer: ports set, ACK flag as given.
    func remote(seq: SequenceNumber, ack: SequenceNumber? = nil, flags: TCPFlags = [], window: UInt16 = 65_535,
                options: TCPOptions = TCPOptions()) -> TCPRepr {
        TCPRepr(sourcePort: Self.remotePort, destinationPort: Self.localPort, sequenceNumber: seq,
                acknowledgmentNumber: ack ?? SequenceNumber(0), flags: ack == nil ? flags : flags.union(.ack),
                windowSize: window, options: options)
    }

    /// A segment we expect from the stack.
    func local(seq: SequenceNumber, ack: SequenceNumber? = nil, flags: TCPFlags = [], window: UInt16? = nil,
               options: TCPOptions = TCPOptions(), length: Int = 0) -> TCPRepr {
        TCPRepr(sourcePort: Self.localPort, destinationPort: Self.remotePort, sequenceNumber: seq,
                acknowledgmentNumber: ack ?? SequenceNumber(0), flags: ack == nil ? flags : flags.union(.ack),
                windowSize: window ?? UInt16(Self.bufferSize), options: options, payloadLength: length)
    }

    // MARK: Driving

    mutating func send(_ segment: TCPRepr, payload: [UInt8] = []) {
        stack.receive(Frame.tcp(segment, payload: payload), at: now)
        collectEvents()
    }

    mutating func send<D: NetDelivery>(_ segment: TCPRepr, payload: [UInt8] = [], delivery: inout D) {
        Frame.tcp(segment, payload: payload).withUnsafeBytes { stack.receive($0, at: now, delivery: &delivery) }
        collectEvents()
    }

    mutating func collectEvents() {
        events += stack.drainEvents()
    }

    /// Polls and returns the TCP segments sent, with payloads.
    mutating func poll(capacity: Int? = nil) -> [(TCPRepr, [UInt8])] {
        let frames = try! stack.pollFrames(at: now, capacity: capacity)
        collectEvents()
        return frames.compactMap { sent in sent.tcp.map { ($0, sent.payload) } }
    }

    /// Polls and checks that exactly `segments` were sent, in order.
    mutating func expect(_ segments: TCPRepr..., payloads: [[UInt8]]? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let sent = poll()
        #expect(sent.map(\.0) == segments, sourceLocation: sourceLocation)
        if let payloads { #expect(sent.map(\.1) == payloads, sourceLocation: sourceLocation) }
    }

    mutating func expectNothing(sourceLocation: SourceLocation = #_sourceLocation) {
        let sent = poll()
        #expect(sent.isEmpty, "unexpected \(sent.map { Sent.describe($0.0, $0.1) })", sourceLocation: sourceLocation)
    }

    mutating func advance(by duration: NetDuration) {
        now += duration
    }

    /// Moves the clock to the stack's next deadline.
    mutating func advanceToDeadline() {
        now = max(now, stack.nextDeadline)
    }

    mutating func takeEvents() -> [NetEvent] {
        defer { events.removeAll() }
        return events
    }

    // MARK: Openings

    /// Passive open with our SYN,ACK checked; returns with the connection ESTABLISHED.
    mutating func acceptConnection(synOptions: TCPOptions = TCPOptions(maximumSegmentSize: 1460)) {
        try! stack.listen(on: Self.localPort)
        send(remote(seq: remoteISN, flags: .syn, options: synOptions))
        let synAck = poll()
        #expect(synAck.count == 1)
        #expect(synAck.first?.0.flags == [.syn, .ack])
        send(remote(seq: remoteISN + 1, ack: localISN + 1))
        #expect(state == .established)
        let accepted = takeEvents()
        guard case .accepted(let handle, _)? = accepted.first else {
            Issue.record("expected .accepted, got \(accepted)")
            return
        }
        self.handle = handle
        savedISN = localISN
    }

    /// Active open to the peer's port, answered by the test's SYN,ACK; ESTABLISHED afterwards.
    mutating func openConnection(synAckOptions: TCPOptions = TCPOptions(maximumSegmentSize: 1460)) {
        handle = try! stack.connect(to: Host.remoteIP, port: Self.remotePort, localPort: Self.localPort, at: now)
        let syn = poll()
        #expect(syn.count == 1 && syn.first?.0.flags == .syn)
        send(remote(seq: remoteISN, ack: localISN + 1, flags: .syn, options: synAckOptions))
        expect(local(seq: localISN + 1, ack: remoteISN + 1))
        #expect(state == .established)
        #expect(takeEvents() == [.connected(handle!)])
        savedISN = localISN
    }

    /// Our next sequence number and the peer's, once established with no data yet.
    var ourNext: SequenceNumber { connection!.sendNext }

    mutating func write(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { try! stack.write($0, to: handle!, at: now) }
    }

    mutating func read(max: Int = 1 << 20) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max)
        let count = buffer.withUnsafeMutableBytes { try! stack.read(from: handle!, into: $0, at: now) }
        return Array(buffer[..<count])
    }
}

extension Sent {
    static func describe(_ tcp: TCPRepr, _ payload: [UInt8]) -> String {
        "\(tcp.flags) seq=\(tcp.sequenceNumber) ack=\(tcp.acknowledgmentNumber) win=\(tcp.windowSize) len=\(payload.count)"
    }
}
