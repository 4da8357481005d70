@testable import ApusNet
import ApusTesting
import ApusWire
import Testing

@Suite struct CloseTests {
    var t = TCPHarness()
    init() { t.acceptConnection() }

    var rcv: SequenceNumber { t.remoteISN + 1 }
    var snd: SequenceNumber { t.localISN + 1 }

    mutating func close() { try! t.stack.close(t.handle!, at: t.now) }

    @Test mutating func activeCloseSendsFIN() {
        close()
        #expect(t.state == .finWait1)
        t.expect(t.local(seq: snd, ack: rcv, flags: .fin))
    }

    @Test mutating func ackOfFINEntersFinWait2() {
        close()
        _ = t.poll()
        t.send(t.remote(seq: rcv, ack: snd + 1))
        #expect(t.state == .finWait2)
    }

    @Test mutating func peerFINInFinWait2EntersTimeWait() {
        close()
        _ = t.poll()
        t.send(t.remote(seq: rcv, ack: snd + 1))
        t.send(t.remote(seq: rcv, ack: snd + 1, flags: .fin))
        #expect(t.state == .timeWait)
        t.expect(t.local(seq: snd + 1, ack: rcv + 1))
    }

    @Test mutating func timeWaitExpiresAfterConfiguredDuration() {
        t = TCPHarness { $0.tcp.timeWaitDuration = .seconds(2) }
        t.acceptConnection()
        close()
        _ = t.poll()
        t.send(t.remote(seq: rcv, ack: snd + 1, flags: .fin))
        _ = t.poll()
        #expect(t.state == .timeWait)
        #expect(t.stack.nextDeadline == t.now + .seconds(2))
        t.advance(by: .milliseconds(1999))
        _ = t.poll()
        #expect(t.state == .timeWait)
        t.advance(by: .milliseconds(1))
        _ = t.poll()
        #expect(t.state == nil)
        #expect(t.takeEvents() == [.readable(t.handle!), .closed(t.handle!, .normal)])
    }

    @Test mutating func finAcknowledgingOurFINEntersTimeWaitDirectly() {
        close()
        _ = t.poll()
        t.send(t.remote(seq: rcv, ack: snd + 1, flags: .fin))
        #expect(t.state == .timeWait)
        t.expect(t.local(seq: snd + 1, ack: rcv + 1))
    }

    @Test mutating func simultaneousCloseGoesThroughClosing() {
        close()
        t.expect(t.local(seq: snd, ack: rcv, flags: .fin))
        // The peer's FIN crossed ours: it does not acknowledge it.
        t.send(t.remote(seq: rcv, ack: snd, flags: .fin))
        #expect(t.state == .closing)
        t.expect(t.local(seq: snd + 1, ack: rcv + 1))
        t.send(t.remote(seq: rcv + 1, ack: snd + 1))
        #expect(t.state == .timeWait)
    }

    @Test mutating func timeWaitAcknowledgesRetransmittedFIN() {
        t = TCPHarness { $0.tcp.timeWaitDuration = .seconds(2) }
        t.acceptConnection()
        close()
        _ = t.poll()
        t.send(t.remote(seq: rcv, ack: snd + 1, flags: .fin))
        _ = t.poll()
        t.advance(by: .seconds(1))
        t.send(t.remote(seq: rcv, ack: snd + 1, flags: .fin))
        t.expect(t.local(seq: snd + 1, ack: rcv + 1))
        #expect(t.stack.nextDeadline == t.now + .seconds(2), "2 MSL restarts")
    }

    @Test mutating func passiveCloseAcknowledgesFINAndSignalsEndOfStream() {
        t.send(t.remote(seq: rcv, ack: snd, flags: .fin))
        #expect(t.state == .closeWait)
        t.expect(t.local(seq: snd, ack: rcv + 1, window: 32_768))
        #expect(t.takeEvents() == [.readable(t.handle!)])
        #expect(t.read().isEmpty)
        #expect(t.stack.isAtEndOfStream(t.handle!))
    }

    @Test mutating func closeInCloseWaitSendsFINAndLastAckCompletes() {
        t.send(t.remote(seq: rcv, ack: snd, flags: .fin))
        _ = t.poll()
        close()
        #expect(t.state == .lastAck)
        t.expect(t.local(seq: snd, ack: rcv + 1, flags: .fin))
        _ = t.takeEvents()
        t.send(t.remote(seq: rcv + 1, ack: snd + 1))
        #expect(t.takeEvents() == [.closed(t.handle!, .normal)])
        #expect(t.stack.connectionCount == 0)
    }

    @Test mutating func dataThenFINArriveTogether() {
        t.send(t.remote(seq: rcv, ack: snd, flags: .fin), payload: pattern(10))
        #expect(t.state == .closeWait)
        #expect(t.read() == pattern(10))
        #expect(t.stack.isAtEndOfStream(t.handle!))
        t.expect(t.local(seq: snd, ack: rcv + 11, window: 32_768))
    }

    @Test mutating func outOfOrderFINIsIgnoredUntilDataArrives() {
        t.send(t.remote(seq: rcv + 10, ack: snd, flags: .fin), payload: pattern(5, offset: 10))
        #expect(t.state == .established)
        t.send(t.remote(seq: rcv, ack: snd), payload: pattern(10))
        #expect(t.connection?.receiveNext == rcv + 15)
        t.send(t.remote(seq: rcv + 15, ack: snd, flags: .fin))
        #expect(t.state == .closeWait)
    }

    @Test mutating func queuedDataGoesOutWithTheFIN() {
        _ = t.write(pattern(100))
        close()
        t.expect(t.local(seq: snd, ack: rcv, flags: [.fin, .psh], length: 100))
    }

    @Test mutating func halfClosedConnectionStillReceives() {
        close()
        _ = t.poll()
        t.send(t.remote(seq: rcv, ack: snd + 1))
        t.send(t.remote(seq: rcv, ack: snd + 1), payload: pattern(20))
        #expect(t.state == .finWait2)
        #expect(t.read() == pattern(20))
    }

    @Test mutating func writeAfterCloseFails() {
        close()
        #expect(throws: NetError(.connectionClosed, "tcp write")) {
            try [1].withUnsafeBytes { try t.stack.write($0, to: t.handle!, at: t.now) }
        }
    }

    @Test mutating func abortSendsRSTAndClosesAtOnce() {
        _ = t.write(pattern(10))
        _ = t.poll()
        try! t.stack.abort(t.handle!, at: t.now)
        t.collectEvents()
        #expect(t.takeEvents() == [.closed(t.handle!, .aborted)])
        t.expect(t.local(seq: snd + 10, flags: .rst, window: 0))
        #expect(t.stack.state(of: t.handle!) == nil)
    }

    @Test mutating func staleHandleIsRejected() {
        let handle = t.handle!
        try! t.stack.abort(handle, at: t.now)
        #expect(throws: NetError(.invalidHandle, "tcp read")) {
            var buffer = [UInt8](repeating: 0, count: 4)
            _ = try buffer.withUnsafeMutableBytes { try t.stack.read(from: handle, into: $0, at: t.now) }
        }
    }

    @Test func closeInSynSentDeletesConnection() {
        var t = TCPHarness()
        let handle = try! t.stack.connect(to: Host.remoteIP, port: TCPHarness.remotePort, localPort: TCPHarness.localPort, at: t.now)
        _ = t.poll()
        try! t.stack.close(handle, at: t.now)
        #expect(t.stack.state(of: handle) == nil)
        t.collectEvents()
        #expect(t.takeEvents() == [.closed(handle, .normal)])
        t.advance(by: .seconds(5))
        t.expectNothing()
    }
}
