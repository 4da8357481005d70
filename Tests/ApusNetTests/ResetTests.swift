@testable import ApusNet
import ApusTesting
import ApusWire
import Testing

/// RST handling in every state (RFC 9293 §3.10.7.4 second step, RFC 5961 §3)
/// and the other blind-attack checks (RFC 5961 §4, §5).
@Suite struct ResetTests {
    var t = TCPHarness()
    init() { t.acceptConnection() }

    var rcv: SequenceNumber { t.remoteISN + 1 }
    var snd: SequenceNumber { t.localISN + 1 }

    mutating func reset(seq: SequenceNumber? = nil) {
        t.send(t.remote(seq: seq ?? rcv, flags: .rst))
    }

    @Test mutating func exactRSTInEstablishedResets() {
        reset()
        #expect(t.takeEvents() == [.closed(t.handle!, .reset)])
        t.expectNothing()
    }

    @Test mutating func inWindowRSTGetsChallengeACK() {
        reset(seq: rcv + 100)
        #expect(t.state == .established)
        t.expect(t.local(seq: snd, ack: rcv))
        #expect(t.stack.statistics.tcpChallengeACKs == 1)
    }

    @Test mutating func outOfWindowRSTIsIgnored() {
        reset(seq: rcv + 100_000)
        #expect(t.state == .established)
        t.expectNothing()
    }

    @Test mutating func rstInFinWait1Resets() {
        try! t.stack.close(t.handle!, at: t.now)
        _ = t.poll()
        reset()
        #expect(t.takeEvents() == [.closed(t.handle!, .reset)])
    }

    @Test mutating func rstInFinWait2Resets() {
        try! t.stack.close(t.handle!, at: t.now)
        _ = t.poll()
        t.send(t.remote(seq: rcv, ack: snd + 1))
        #expect(t.state == .finWait2)
        reset()
        #expect(t.takeEvents() == [.closed(t.handle!, .reset)])
    }

    @Test mutating func rstInCloseWaitResets() {
        t.send(t.remote(seq: rcv, ack: snd, flags: .fin))
        _ = t.takeEvents()
        reset(seq: rcv + 1)
        #expect(t.takeEvents() == [.closed(t.handle!, .reset)])
    }

    @Test mutating func rstInClosingCloses() {
        try! t.stack.close(t.handle!, at: t.now)
        _ = t.poll()
        t.send(t.remote(seq: rcv, ack: snd, flags: .fin))
        #expect(t.state == .closing)
        _ = t.takeEvents()
        reset(seq: rcv + 1)
        #expect(t.takeEvents() == [.closed(t.handle!, .normal)])
    }

    @Test mutating func rstInLastAckCloses() {
        t.send(t.remote(seq: rcv, ack: snd, flags: .fin))
        try! t.stack.close(t.handle!, at: t.now)
        #expect(t.state == .lastAck)
        _ = t.takeEvents()
        reset(seq: rcv + 1)
        #expect(t.takeEvents() == [.closed(t.handle!, .normal)])
    }

    @Test mutating func rstInTimeWaitCloses() {
        try! t.stack.close(t.handle!, at: t.now)
        _ = t.poll()
        t.send(t.remote(seq: rcv, ack: snd + 1, flags: .fin))
        #expect(t.state == .timeWait)
        _ = t.takeEvents()
        reset(seq: rcv + 1)
        #expect(t.takeEvents() == [.closed(t.handle!, .normal)])
    }

    @Test func rstInPassiveSynReceivedReturnsToListen() {
        var t = TCPHarness()
        try! t.stack.listen(on: TCPHarness.localPort, backlog: 1)
        t.send(t.remote(seq: t.remoteISN, flags: .syn))
        _ = t.poll()
        t.send(t.remote(seq: t.remoteISN + 1, flags: .rst))
        #expect(t.state == nil)
        #expect(t.takeEvents().isEmpty, "the application never heard of it")
        #expect(t.stack.listeners[TCPHarness.localPort]?.halfOpen == 0)
    }

    @Test func rstInActiveSynReceivedResets() {
        var t = TCPHarness()
        let handle = try! t.stack.connect(to: Host.remoteIP, port: TCPHarness.remotePort, localPort: TCPHarness.localPort, at: t.now)
        _ = t.poll()
        t.send(t.remote(seq: t.remoteISN, flags: .syn))
        #expect(t.state == .synReceived)
        t.send(t.remote(seq: t.remoteISN + 1, flags: .rst))
        #expect(t.takeEvents() == [.closed(handle, .reset)])
    }

    @Test mutating func synInEstablishedGetsChallengeACK() {
        t.send(t.remote(seq: rcv + 5, flags: .syn))
        #expect(t.state == .established)
        t.expect(t.local(seq: snd, ack: rcv))
        #expect(t.stack.statistics.tcpChallengeACKs == 1)
    }

    @Test mutating func ackOfUnsentDataIsAnsweredAndDropped() {
        t.send(t.remote(seq: rcv, ack: snd + 500), payload: pattern(10))
        t.expect(t.local(seq: snd, ack: rcv))
        #expect(t.stack.bytesAvailable(on: t.handle!) == 0)
    }

    @Test mutating func ancientACKGetsChallengeACK() {
        t.send(t.remote(seq: rcv, ack: snd - 200_000), payload: pattern(10))
        t.expect(t.local(seq: snd, ack: rcv))
        #expect(t.stack.statistics.tcpChallengeACKs == 1)
        #expect(t.stack.bytesAvailable(on: t.handle!) == 0)
    }

    @Test mutating func segmentWithoutACKIsDropped() {
        t.send(t.remote(seq: rcv), payload: pattern(10))
        #expect(t.stack.bytesAvailable(on: t.handle!) == 0)
        t.expectNothing()
    }

    @Test func badACKInSynReceivedIsReset() {
        var t = TCPHarness()
        try! t.stack.listen(on: TCPHarness.localPort)
        t.send(t.remote(seq: t.remoteISN, flags: .syn))
        _ = t.poll()
        t.send(t.remote(seq: t.remoteISN + 1, ack: t.localISN))
        t.expect(t.local(seq: t.localISN, flags: .rst, window: 0))
        #expect(t.state == .synReceived)
    }

    @Test mutating func rstAnswersNothing() {
        reset(seq: rcv + 100)
        _ = t.poll()
        reset(seq: rcv - 100)
        t.expectNothing()
    }
}
