@testable import ApusNet
import ApusTesting
import ApusWire
import Testing

/// RFC 1122 §4.2.3.6 keepalive: probes an idle peer with SND.UNA − 1, drops one that never answers.
@Suite struct KeepaliveTests {
    var t = TCPHarness { $0.tcp.keepalive = TCPKeepalive(idle: .seconds(10), interval: .seconds(2), probes: 3) }
    init() { t.acceptConnection() }

    var rcv: SequenceNumber { t.remoteISN + 1 }
    var snd: SequenceNumber { t.localISN + 1 }

    @Test mutating func anIdleConnectionIsProbedAfterTheIdleTime() {
        _ = t.poll()
        t.advance(by: .milliseconds(9_999))
        t.expectNothing()
        t.advance(by: .milliseconds(1))
        t.expect(t.local(seq: snd - 1, ack: rcv))
        #expect(t.stack.statistics.tcpRetransmissions == 0)
    }

    @Test mutating func anAnsweredProbeKeepsTheConnection() {
        _ = t.poll()
        t.advance(by: .seconds(10))
        t.expect(t.local(seq: snd - 1, ack: rcv))
        // The peer's ACK of the out-of-window probe: it is alive, the idle time starts over.
        t.send(t.remote(seq: rcv, ack: snd))
        t.advance(by: .seconds(9))
        t.expectNothing()
        t.advance(by: .seconds(1))
        t.expect(t.local(seq: snd - 1, ack: rcv))
        #expect(t.state == .established)
    }

    @Test mutating func aSilentPeerIsDroppedAfterTheLastProbe() {
        _ = t.poll()
        t.advance(by: .seconds(10))
        for _ in 0..<3 {
            t.expect(t.local(seq: snd - 1, ack: rcv))
            t.advance(by: .seconds(2))
        }
        _ = t.poll()
        #expect(t.takeEvents().contains { if case .closed(_, .timedOut) = $0 { true } else { false } })
        #expect(t.state == nil)
    }

    @Test mutating func outstandingDataIsLeftToTheRetransmissionTimer() {
        _ = t.write([1, 2, 3])
        t.expect(t.local(seq: snd, ack: rcv, flags: .psh, length: 3))
        t.send(t.remote(seq: rcv, ack: snd + 3))
        t.advance(by: .seconds(10))
        t.expect(t.local(seq: snd + 3 - 1, ack: rcv))
    }

    @Test func keepaliveIsOffByDefault() {
        var plain = TCPHarness()
        plain.acceptConnection()
        _ = plain.poll()
        plain.advance(by: .seconds(3 * 3600))
        plain.expectNothing()
    }
}
