@testable import ApusNet
import ApusTesting
import ApusWire
import Testing

/// `NetStackConfiguration.receiveWindowBudget`: the windows offered by all connections together
/// stay within what an AF_XDP RX ring can hold, divided among the connections receiving.
@Suite struct ReceiveWindowBudgetTests {
    static let budget = 20_000
    static let floor = 4 * TCPHarness.mss
    static let ports: [UInt16] = [50_001, 50_002, 50_003, 50_004]

    var t = TCPHarness { $0.receiveWindowBudget = ReceiveWindowBudgetTests.budget }
    /// Per peer port: the next sequence number it sends, our ISN + 1, the handle.
    var peers: [UInt16: (next: SequenceNumber, ours: SequenceNumber, handle: TCPHandle)] = [:]

    func segment(_ port: UInt16, seq: SequenceNumber, ack: SequenceNumber? = nil, flags: TCPFlags = []) -> TCPRepr {
        TCPRepr(sourcePort: port, destinationPort: TCPHarness.localPort, sequenceNumber: seq,
                acknowledgmentNumber: ack ?? SequenceNumber(0), flags: ack == nil ? flags : flags.union(.ack),
                windowSize: 65_535, options: flags.contains(.syn) ? TCPOptions(maximumSegmentSize: 1460) : TCPOptions())
    }

    /// Opens a connection from `port`; returns the window of our SYN,ACK.
    mutating func connect(_ port: UInt16) -> UInt16 {
        let isn = SequenceNumber(7_000)
        t.send(segment(port, seq: isn, flags: .syn))
        let synAck = t.poll().map(\.0).first { $0.destinationPort == port }!
        t.send(segment(port, seq: isn + 1, ack: synAck.sequenceNumber + 1))
        guard case .accepted(let handle, _)? = t.takeEvents().first else {
            Issue.record("no connection from \(port)")
            return 0
        }
        peers[port] = (isn + 1, synAck.sequenceNumber + 1, handle)
        return synAck.windowSize
    }

    /// The peer at `port` sends `count` bytes in full segments, the application reads them all;
    /// returns the window of the last ACK we sent it.
    mutating func stream(_ port: UInt16, _ count: Int) -> UInt16? {
        var window: UInt16?
        var sent = 0
        while sent < count {
            let length = min(TCPHarness.mss, count - sent)
            let peer = peers[port]!
            t.send(segment(port, seq: peer.next, ack: peer.ours), payload: pattern(length))
            peers[port]!.next = peer.next + length
            sent += length
            t.handle = peer.handle
            _ = t.read()
            window = t.poll().map(\.0).last { $0.destinationPort == port }?.windowSize ?? window
        }
        return window
    }

    @Test mutating func windowsShrinkToTheShareOfTheConnectionsReceiving() {
        try! t.stack.listen(on: TCPHarness.localPort)
        #expect(connect(Self.ports[0]) == UInt16(Self.budget), "nobody receives yet: the whole budget (below the buffer)")
        for port in Self.ports.dropFirst() { _ = connect(port) }
        for port in Self.ports { _ = stream(port, 100) }
        // Four receivers: 5,000 each, raised to the floor of four segments. Once what the SYN,ACK
        // promised is used up, no ACK offers more than that.
        let share = max(Self.budget / Self.ports.count, Self.floor)
        for port in Self.ports {
            let window = stream(port, Self.budget + 2 * TCPHarness.mss)
            #expect(window.map { Int($0) <= share } == true, "port \(port): \(window.map(String.init) ?? "no ACK")")
        }
        // A period (a second) with one receiver, then another: its share is the whole budget again.
        for _ in 0..<2 {
            t.advance(by: .seconds(1))
            _ = t.poll()
            _ = stream(Self.ports[0], 100)
        }
        #expect(stream(Self.ports[0], 3 * TCPHarness.mss).map(Int.init) == Self.budget)
    }

    @Test mutating func withoutABudgetTheWindowIsTheFreeBuffer() {
        t = TCPHarness()
        try! t.stack.listen(on: TCPHarness.localPort)
        #expect(connect(Self.ports[0]) == UInt16(TCPHarness.bufferSize))
        for port in Self.ports.dropFirst() { _ = connect(port) }
        for port in Self.ports {
            #expect(stream(port, 3 * TCPHarness.mss) == UInt16(TCPHarness.bufferSize))
        }
    }
}
