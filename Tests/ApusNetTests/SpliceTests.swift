@testable import ApusNet
import ApusTesting
import ApusWire
import Testing

/// `NetStack.splice`: received bytes moved ring to ring into a send buffer, for an echo (one
/// connection) or a proxy (two).
@Suite struct SpliceTests {
    var t = TCPHarness()
    init() { t.acceptConnection() }

    var rcv: SequenceNumber { t.remoteISN + 1 }
    var snd: SequenceNumber { t.localISN + 1 }

    @Test mutating func anEchoSendsBackWhatArrivedAndOpensTheWindow() throws {
        t.send(t.remote(seq: rcv, ack: snd), payload: pattern(3000))
        _ = t.poll()
        let moved = try t.stack.splice(from: t.handle!, to: t.handle!, at: t.now)
        #expect(moved == 3000)
        #expect(t.stack.bytesAvailable(on: t.handle!) == 0)
        let sent = t.poll().filter { !$0.1.isEmpty }
        #expect(sent.flatMap(\.1) == pattern(3000), "the bytes, in order, in segments of the peer's MSS")
        #expect(sent.last?.0.acknowledgmentNumber == rcv + 3000)
        #expect(sent.last?.0.windowSize == UInt16(TCPHarness.bufferSize), "what was read frees the window")
    }

    @Test mutating func aShortLimitMovesOnlyThatMuch() throws {
        t.send(t.remote(seq: rcv, ack: snd), payload: pattern(1000))
        #expect(try t.stack.splice(from: t.handle!, to: t.handle!, maximumLength: 300, at: t.now) == 300)
        #expect(t.stack.bytesAvailable(on: t.handle!) == 700)
        #expect(try t.stack.splice(from: t.handle!, to: t.handle!, at: t.now) == 700)
        #expect(t.poll().flatMap(\.1) == pattern(1000))
    }

    @Test mutating func aFullSendBufferTakesWhatFitsAndSignalsWritableLater() throws {
        #expect(t.write(pattern(32_000)) == 32_000)
        _ = t.poll()
        t.send(t.remote(seq: rcv, ack: snd), payload: pattern(1000, offset: 7))
        _ = t.takeEvents()
        #expect(try t.stack.splice(from: t.handle!, to: t.handle!, at: t.now) == 768)
        #expect(t.stack.bytesAvailable(on: t.handle!) == 232)
        t.send(t.remote(seq: rcv + 1000, ack: snd + 1460))
        #expect(t.takeEvents().contains(.writable(t.handle!)))
    }

    @Test mutating func aProxyMovesBytesFromOneConnectionToAnother() throws {
        // A second connection, from another port of the peer.
        let port: UInt16 = 50_100
        let isn = SequenceNumber(90_000)
        t.send(TCPRepr(sourcePort: port, destinationPort: TCPHarness.localPort, sequenceNumber: isn, flags: .syn,
                       windowSize: 65_535, options: TCPOptions(maximumSegmentSize: 1460)))
        let synAck = t.poll().map(\.0).first { $0.destinationPort == port }!
        t.send(TCPRepr(sourcePort: port, destinationPort: TCPHarness.localPort, sequenceNumber: isn + 1,
                       acknowledgmentNumber: synAck.sequenceNumber + 1, flags: .ack, windowSize: 65_535))
        guard case .accepted(let other, _)? = t.takeEvents().first else {
            Issue.record("no second connection")
            return
        }
        t.send(t.remote(seq: rcv, ack: snd), payload: pattern(2000, offset: 3))
        _ = t.poll()
        #expect(try t.stack.splice(from: t.handle!, to: other, at: t.now) == 2000)
        let sent = t.poll()
        #expect(sent.filter { $0.0.destinationPort == port }.flatMap(\.1) == pattern(2000, offset: 3))
        #expect(sent.filter { $0.0.destinationPort == TCPHarness.remotePort }.allSatisfy { $0.1.isEmpty })
        #expect(t.stack.bytesAvailable(on: t.handle!) == 0)
    }

    @Test mutating func aDestinationThatClosedItsSendSideIsRefused() throws {
        t.send(t.remote(seq: rcv, ack: snd), payload: pattern(10))
        try t.stack.close(t.handle!, at: t.now)
        #expect(throws: NetError.self) { try t.stack.splice(from: t.handle!, to: t.handle!, at: t.now) }
        #expect(t.stack.bytesAvailable(on: t.handle!) == 10, "nothing taken")
    }
}
