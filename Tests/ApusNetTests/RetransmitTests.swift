@testable import ApusNet
import ApusTesting
import ApusWire
import Testing

@Suite struct RetransmitTests {
    var t = TCPHarness()
    init() { t.acceptConnection() }

    var rcv: SequenceNumber { t.remoteISN + 1 }
    var snd: SequenceNumber { t.localISN + 1 }

    /// The SYN,ACK's RTT was sampled at 0 ms, so the RTO is the 200 ms minimum.
    @Test mutating func handshakeSampleGivesMinimumRTO() {
        #expect(t.connection?.rtt.smoothedRTT == .zero)
        #expect(t.connection?.rtt.rto == .milliseconds(200))
    }

    @Test mutating func unacknowledgedDataIsRetransmittedAfterRTO() {
        _ = t.write(pattern(100))
        t.expect(t.local(seq: snd, ack: rcv, flags: .psh, length: 100))
        t.advance(by: .milliseconds(199))
        t.expectNothing()
        t.advance(by: .milliseconds(1))
        t.expect(t.local(seq: snd, ack: rcv, flags: .psh, length: 100), payloads: [pattern(100)])
        #expect(t.stack.statistics.tcpRetransmissions == 1)
    }

    @Test mutating func timeoutBacksOffExponentially() {
        _ = t.write(pattern(100))
        _ = t.poll()
        var times: [NetDuration] = []
        let start = t.now
        // Bounded: the stack also wakes for other work (the idle-buffer sweep) and sends nothing then.
        for _ in 0..<20 where times.count < 4 {
            t.advanceToDeadline()
            if !t.poll().isEmpty { times.append(t.now - start) }
        }
        #expect(times == [.milliseconds(200), .milliseconds(600), .milliseconds(1400), .milliseconds(3000)])
    }

    @Test mutating func timeoutRewindsAndResendsFromFirstUnacknowledged() {
        _ = t.write(pattern(3000))
        #expect(t.poll().count == 3)
        t.send(t.remote(seq: rcv, ack: snd + 1460))
        t.advance(by: .milliseconds(200))
        t.expect(t.local(seq: snd + 1460, ack: rcv, length: 1460), payloads: [pattern(1460, offset: 1460)])
        #expect(t.connection?.congestionWindow == 1460, "the loss window is one segment")
    }

    @Test mutating func rttSampleUpdatesEstimator() {
        _ = t.write(pattern(100))
        _ = t.poll()
        t.advance(by: .milliseconds(80))
        t.send(t.remote(seq: rcv, ack: snd + 100))
        // SRTT = 7/8 × 0 + 1/8 × 80 = 10 ms; RTTVAR = 3/4 × 0 + 1/4 × 80 = 20 ms; RTO = 10 + 80 = 90 → 200 minimum.
        #expect(t.connection?.rtt.smoothedRTT == .milliseconds(10))
        #expect(t.connection?.rtt.rttVariance == .milliseconds(20))
        #expect(t.connection?.rtt.rto == .milliseconds(200))
    }

    @Test mutating func karnsRuleSkipsRetransmittedSegments() {
        _ = t.write(pattern(100))
        _ = t.poll()
        t.advance(by: .milliseconds(200))
        _ = t.poll()
        t.advance(by: .milliseconds(5_000 - 200))
        t.send(t.remote(seq: rcv, ack: snd + 100))
        #expect(t.connection?.rtt.smoothedRTT == .zero, "the ambiguous 5 s sample was not taken")
    }

    @Test mutating func ackEndsBackoff() {
        _ = t.write(pattern(100))
        _ = t.poll()
        t.advance(by: .milliseconds(200))
        _ = t.poll()
        #expect(t.connection?.rtt.backoff == 1)
        t.send(t.remote(seq: rcv, ack: snd + 100))
        #expect(t.connection?.rtt.backoff == 0)
        #expect(t.connection?.retransmitDeadline == nil)
    }

    @Test mutating func retransmissionLimitClosesConnection() {
        t = TCPHarness { $0.tcp.maximumRetransmissions = 2 }
        t.acceptConnection()
        _ = t.write(pattern(100))
        _ = t.poll()
        var events: [NetEvent] = []
        for _ in 0..<20 where events.isEmpty {  // bounded; some wake-ups are not retransmissions
            t.advanceToDeadline()
            _ = t.poll()
            events = t.takeEvents()
        }
        #expect(events == [.closed(t.handle!, .timedOut)])
        #expect(t.stack.statistics.tcpRetransmissions == 2, "closed after its two retransmissions, not before")
        #expect(t.stack.state(of: t.handle!) == nil)
    }

    @Test mutating func thirdDuplicateACKTriggersFastRetransmit() {
        _ = t.write(pattern(5 * 1460))
        #expect(t.poll().count == 5)
        t.send(t.remote(seq: rcv, ack: snd + 1460))
        for _ in 0..<2 { t.send(t.remote(seq: rcv, ack: snd + 1460)) }
        t.expectNothing()
        t.send(t.remote(seq: rcv, ack: snd + 1460))
        t.expect(t.local(seq: snd + 1460, ack: rcv, length: 1460), payloads: [pattern(1460, offset: 1460)])
        #expect(t.stack.statistics.tcpFastRetransmits == 1)
        #expect(t.connection?.inFastRecovery == true)
        #expect(t.connection?.slowStartThreshold == 2920, "half of the 4 segments in flight")
    }

    @Test mutating func windowUpdateIsNotADuplicateACK() {
        _ = t.write(pattern(5 * 1460))
        _ = t.poll()
        for window: UInt16 in [60_000, 50_000, 40_000] { t.send(t.remote(seq: rcv, ack: snd, window: window)) }
        t.expectNothing()
        #expect(t.connection?.duplicateACKs == 0)
    }

    @Test mutating func newRenoPartialACKResendsNextHole() {
        _ = t.write(pattern(5 * 1460))
        _ = t.poll()
        for _ in 0..<3 { t.send(t.remote(seq: rcv, ack: snd)) }
        t.expect(t.local(seq: snd, ack: rcv, length: 1460))
        // The retransmission fills the first hole; the third segment was lost too.
        t.send(t.remote(seq: rcv, ack: snd + 2920))
        t.expect(t.local(seq: snd + 2920, ack: rcv, length: 1460), payloads: [pattern(1460, offset: 2920)])
        #expect(t.connection?.inFastRecovery == true)
        t.send(t.remote(seq: rcv, ack: snd + 5 * 1460))
        #expect(t.connection?.inFastRecovery == false)
        #expect(t.connection?.congestionWindow == 2920, "deflated to ssthresh")
    }

    @Test mutating func fullTXRingLosesNothing() {
        _ = t.write(pattern(100))
        #expect(t.poll(capacity: 0).isEmpty)
        #expect(t.stack.nextDeadline == t.now)
        t.expect(t.local(seq: snd, ack: rcv, flags: .psh, length: 100), payloads: [pattern(100)])
        #expect(t.stack.statistics.tcpRetransmissions == 0)
    }

    @Test mutating func finIsRetransmitted() {
        try! t.stack.close(t.handle!, at: t.now)
        t.expect(t.local(seq: snd, ack: rcv, flags: .fin))
        t.advance(by: .milliseconds(200))
        t.expect(t.local(seq: snd, ack: rcv, flags: .fin))
    }

    @Test func synIsRetransmittedThenGivesUp() {
        var t = TCPHarness { $0.tcp.maximumSYNRetransmissions = 2 }
        let handle = try! t.stack.connect(to: Host.remoteIP, port: TCPHarness.remotePort, localPort: TCPHarness.localPort, at: t.now)
        let syn = t.local(seq: t.localISN, flags: .syn, options: TCPOptions(maximumSegmentSize: 1460, sackPermitted: true))
        t.expect(syn)
        t.advance(by: .seconds(1))
        t.expect(syn)
        t.advance(by: .seconds(2))
        t.expect(syn)
        t.advance(by: .seconds(4))
        t.expectNothing()
        #expect(t.takeEvents() == [.closed(handle, .timedOut)])
    }

    @Test func synACKIsRetransmitted() {
        var t = TCPHarness()
        try! t.stack.listen(on: TCPHarness.localPort)
        t.send(t.remote(seq: t.remoteISN, flags: .syn))
        let synAck = t.local(seq: t.localISN, ack: t.remoteISN + 1, flags: .syn, options: TCPOptions(maximumSegmentSize: 1460))
        t.expect(synAck)
        t.advance(by: .seconds(1))
        t.expect(synAck)
    }

    @Test mutating func zeroWindowIsProbed() {
        t.send(t.remote(seq: rcv, ack: snd, window: 0))
        _ = t.write(pattern(10))
        t.expectNothing()
        t.advance(by: .milliseconds(200))
        t.expect(t.local(seq: snd, ack: rcv, length: 1), payloads: [[0]])
        // Still closed: the next probe backs off.
        t.send(t.remote(seq: rcv, ack: snd, window: 0))
        t.advance(by: .milliseconds(399))
        t.expectNothing()
        t.advance(by: .milliseconds(1))
        t.expect(t.local(seq: snd, ack: rcv, length: 1))
    }

    /// A peer that answers every probe with a zero window does not hold the connection (and
    /// its queued data) forever: after `maximumRetransmissions` probes it times out, the probes
    /// never more than the maximum RTO apart.
    @Test mutating func probesOfAWindowThatNeverOpensAreBounded() {
        t.send(t.remote(seq: rcv, ack: snd, window: 0))
        _ = t.write(pattern(10))
        var probes = 0
        var last = t.now
        while t.state == .established && probes < 100 {
            t.advanceToDeadline()
            let sent = t.poll()
            if !sent.isEmpty {
                probes += 1
                #expect(t.now - last <= .seconds(60))
                last = t.now
                t.send(t.remote(seq: rcv, ack: snd, window: 0))
            }
        }
        #expect(probes == 12)
        #expect(t.state == nil)
        #expect(t.takeEvents().contains(.closed(t.handle!, .timedOut)))
    }

    /// The pipelining deadlock: after a probe the peer did not take, our ACKs of the peer's data
    /// must carry a sequence number its zero window accepts (SND.UNA, its RCV.NXT), not SND.MAX,
    /// or Linux drops them and both ends wait for each other (Linux's tcp_acceptable_seq).
    @Test mutating func acksAfterAnUntakenProbeStayInsideThePeersWindow() {
        t.send(t.remote(seq: rcv, ack: snd, window: 0))
        _ = t.write(pattern(10))
        t.expectNothing()
        t.advance(by: .milliseconds(200))
        t.expect(t.local(seq: snd, ack: rcv, length: 1), payloads: [[0]])
        // The peer, its window still shut, sends us data and never takes the probe byte.
        t.send(t.remote(seq: rcv, ack: snd, window: 0), payload: pattern(20))
        t.advanceToDeadline()
        let acks = t.poll().filter { $0.1.isEmpty }
        #expect(acks.map(\.0.sequenceNumber) == [snd], "an ACK numbered past the peer's RCV.NXT is dropped by it")
        #expect(acks.map(\.0.acknowledgmentNumber) == [rcv + 20])
    }

    @Test mutating func openedWindowEndsProbing() {
        t.send(t.remote(seq: rcv, ack: snd, window: 0))
        _ = t.write(pattern(10))
        t.expectNothing()
        t.advance(by: .milliseconds(200))
        t.expect(t.local(seq: snd, ack: rcv, length: 1))
        // The probe byte was taken and the window reopened.
        t.send(t.remote(seq: rcv, ack: snd + 1, window: 1000))
        t.expect(t.local(seq: snd + 1, ack: rcv, flags: .psh, length: 9), payloads: [pattern(9, offset: 1)])
        #expect(t.connection?.persistDeadline == nil)
    }
}
