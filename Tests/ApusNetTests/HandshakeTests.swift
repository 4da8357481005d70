@testable import ApusNet
import ApusWire
import Testing

@Suite struct HandshakeTests {
    @Test func passiveOpenAnswersSYNWithSYNACK() {
        var t = TCPHarness()
        try! t.stack.listen(on: TCPHarness.localPort)
        t.send(t.remote(seq: t.remoteISN, flags: .syn, options: TCPOptions(maximumSegmentSize: 1400)))
        #expect(t.state == .synReceived)
        t.expect(t.local(seq: t.localISN, ack: t.remoteISN + 1, flags: .syn, options: TCPOptions(maximumSegmentSize: 1460)))
        #expect(t.takeEvents().isEmpty)
    }

    @Test func passiveOpenCompletesOnACK() {
        var t = TCPHarness()
        t.acceptConnection()
        #expect(t.connection?.sendMSS == 1460)
        t.expectNothing()
    }

    @Test func activeOpenSendsSYNWithOptions() {
        var t = TCPHarness(timestamps: true, windowScaling: true)
        let handle = try! t.stack.connect(to: Host.remoteIP, port: TCPHarness.remotePort, localPort: TCPHarness.localPort, at: t.now)
        #expect(t.stack.state(of: handle) == .synSent)
        var options = TCPOptions(maximumSegmentSize: 1460, windowScale: 0, sackPermitted: true)
        options.timestamps = TCPTimestamps(value: t.now.timestampClock, echoReply: 0)
        t.expect(t.local(seq: t.localISN, flags: .syn, options: options))
    }

    @Test func activeOpenCompletesOnSYNACK() {
        var t = TCPHarness()
        t.openConnection()
        t.expectNothing()
    }

    @Test func activeOpenIsRefusedByRST() {
        var t = TCPHarness()
        let handle = try! t.stack.connect(to: Host.remoteIP, port: TCPHarness.remotePort, localPort: TCPHarness.localPort, at: t.now)
        _ = t.poll()
        t.send(t.remote(seq: SequenceNumber(0), ack: t.localISN + 1, flags: .rst))
        #expect(t.takeEvents() == [.closed(handle, .refused)])
        #expect(t.stack.state(of: handle) == nil)
    }

    @Test func synSentIgnoresRSTWithoutAcceptableACK() {
        var t = TCPHarness()
        let handle = try! t.stack.connect(to: Host.remoteIP, port: TCPHarness.remotePort, localPort: TCPHarness.localPort, at: t.now)
        _ = t.poll()
        t.send(t.remote(seq: SequenceNumber(0), ack: t.localISN + 7, flags: .rst))
        #expect(t.stack.state(of: handle) == .synSent)
        t.expectNothing()
    }

    @Test func synSentAnswersBadACKWithRST() {
        var t = TCPHarness()
        _ = try! t.stack.connect(to: Host.remoteIP, port: TCPHarness.remotePort, localPort: TCPHarness.localPort, at: t.now)
        _ = t.poll()
        t.send(t.remote(seq: t.remoteISN, ack: t.localISN + 100, flags: .syn))
        t.expect(t.local(seq: t.localISN + 100, flags: .rst, window: 0))
        #expect(t.state == .synSent)
    }

    @Test func simultaneousOpen() {
        var t = TCPHarness()
        _ = try! t.stack.connect(to: Host.remoteIP, port: TCPHarness.remotePort, localPort: TCPHarness.localPort, at: t.now)
        _ = t.poll()
        // The peer's own SYN crosses ours.
        t.send(t.remote(seq: t.remoteISN, flags: .syn, options: TCPOptions(maximumSegmentSize: 1460)))
        #expect(t.state == .synReceived)
        t.expect(t.local(seq: t.localISN, ack: t.remoteISN + 1, flags: .syn, options: TCPOptions(maximumSegmentSize: 1460)))
        // Then its SYN,ACK for ours.
        t.send(t.remote(seq: t.remoteISN, ack: t.localISN + 1, flags: .syn, options: TCPOptions(maximumSegmentSize: 1460)))
        #expect(t.state == .established)
        #expect(t.takeEvents().contains { if case .connected = $0 { true } else { false } })
    }

    @Test func retransmittedSYNGetsSYNACKAgain() {
        var t = TCPHarness()
        try! t.stack.listen(on: TCPHarness.localPort)
        t.send(t.remote(seq: t.remoteISN, flags: .syn))
        _ = t.poll()
        t.send(t.remote(seq: t.remoteISN, flags: .syn))
        t.expect(t.local(seq: t.localISN, ack: t.remoteISN + 1, flags: .syn, options: TCPOptions(maximumSegmentSize: 1460)))
    }

    @Test func synToClosedPortIsReset() {
        var t = TCPHarness()
        t.send(t.remote(seq: t.remoteISN, flags: .syn))
        t.expect(t.local(seq: SequenceNumber(0), ack: t.remoteISN + 1, flags: .rst, window: 0))
    }

    @Test func ackToListenerIsReset() {
        var t = TCPHarness { $0.tcp.synCookies = false }
        try! t.stack.listen(on: TCPHarness.localPort)
        t.send(t.remote(seq: t.remoteISN, ack: SequenceNumber(5555)))
        t.expect(t.local(seq: SequenceNumber(5555), flags: .rst, window: 0))
    }

    @Test func rstToClosedPortIsIgnored() {
        var t = TCPHarness()
        t.send(t.remote(seq: t.remoteISN, flags: .rst))
        t.expectNothing()
    }
}
