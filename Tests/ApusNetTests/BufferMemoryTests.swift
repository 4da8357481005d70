@testable import ApusNet
import ApusWire
import Testing

/// Buffers are allocated as data arrives, freed when drained, and never past the budget
/// (`NetStackConfiguration.maximumBufferMemory`): idle connections cost their control block
/// only, and a flood is refused rather than absorbed.
@Suite struct BufferMemoryTests {
    static let overhead = NetStack.connectionOverhead

    @Test func idleConnectionHoldsNoBuffers() {
        var t = TCPHarness()
        t.acceptConnection()
        #expect(t.stack.bufferMemoryInUse == Self.overhead)
        #expect(t.connection?.sendBuffer.allocated == 0)
        #expect(t.connection?.receiveBuffer.allocated == 0)
    }

    @Test func receivedDataIsFreedOnceRead() {
        var t = TCPHarness()
        t.acceptConnection()
        let data = pattern(20_000)
        var sequence = t.remoteISN + 1
        for start in stride(from: 0, to: data.count, by: 1460) {
            let chunk = Array(data[start..<min(start + 1460, data.count)])
            t.send(t.remote(seq: sequence, ack: t.localISN + 1), payload: chunk)
            sequence += chunk.count
        }
        #expect(t.stack.bufferMemoryInUse == Self.overhead + 32_768)
        #expect(t.read() == data)
        #expect(t.stack.bufferMemoryInUse == Self.overhead)
    }

    @Test func sentDataIsFreedOnceAcknowledged() {
        var t = TCPHarness()
        t.acceptConnection()
        #expect(t.write(pattern(8_000)) == 8_000)
        #expect(t.stack.bufferMemoryInUse == Self.overhead + 8_192)
        let sent = t.poll()
        let end = sent.last!.0.sequenceNumber + sent.last!.1.count
        t.send(t.remote(seq: t.remoteISN + 1, ack: end))
        #expect(t.stack.bufferMemoryInUse == Self.overhead)
    }

    @Test func smallMessagesKeepOneSmallAllocation() {
        var t = TCPHarness()
        t.acceptConnection()
        for _ in 0..<3 {
            #expect(t.write(pattern(100)) == 100)
            let sent = t.poll()
            t.send(t.remote(seq: t.remoteISN + 1, ack: sent.last!.0.sequenceNumber + 100))
            #expect(t.stack.bufferMemoryInUse == Self.overhead + ByteRing.minimumStorage)
        }
    }

    /// The storage kept between messages goes back once a connection is idle for
    /// `idleBufferRelease`, and the stack stops waking for it; traffic keeps it.
    @Test func idleConnectionsGiveBackTheStorageKeptBetweenMessages() {
        var t = TCPHarness()
        t.acceptConnection()
        var received = t.remoteISN + 1
        // A request: the receive buffer keeps its 4 KiB while the connection is busy.
        t.send(t.remote(seq: received, ack: t.localISN + 1), payload: pattern(100))
        received += 100
        #expect(t.read() == pattern(100))
        _ = t.poll()
        #expect(t.stack.bufferMemoryInUse == Self.overhead + ByteRing.minimumStorage)
        #expect(t.stack.nextDeadline <= t.now + .seconds(1), "a connection holds storage: the stack wakes to sweep")
        for _ in 0..<4 {  // a message every half interval: never idle across a whole one
            t.advance(by: .milliseconds(500))
            _ = t.poll()
            t.send(t.remote(seq: received, ack: t.localISN + 1), payload: pattern(100))
            received += 100
            #expect(t.read() == pattern(100))
            _ = t.poll()
            #expect(t.stack.bufferMemoryInUse == Self.overhead + ByteRing.minimumStorage)
        }
        // Idle: within two intervals the storage is back and no sweep is scheduled.
        for _ in 0..<3 {
            t.advance(by: .seconds(1))
            _ = t.poll()
        }
        #expect(t.stack.bufferMemoryInUse == Self.overhead)
        #expect(t.connection?.receiveBuffer.allocated == 0)
        #expect(t.stack.nextDeadline > t.now + .seconds(5), "nothing to sweep: no wake-up for it")
        // The next message allocates again and is read whole.
        t.send(t.remote(seq: received, ack: t.localISN + 1), payload: pattern(100, offset: 3))
        #expect(t.read() == pattern(100, offset: 3))
    }

    @Test func dataPastTheBudgetIsDroppedUnacknowledgedUntilMemoryFrees() {
        var t = TCPHarness { $0.maximumBufferMemory = NetStack.connectionOverhead + ByteRing.minimumStorage }
        t.acceptConnection()
        let first = pattern(1460), second = pattern(1460, offset: 1), third = pattern(1460, offset: 2)
        t.send(t.remote(seq: t.remoteISN + 1, ack: t.localISN + 1), payload: first)
        t.send(t.remote(seq: t.remoteISN + 1461, ack: t.localISN + 1), payload: second)
        _ = t.poll()
        // Buffering the third would need a second 4 KiB: the budget is spent.
        t.send(t.remote(seq: t.remoteISN + 2921, ack: t.localISN + 1), payload: third)
        #expect(t.stack.statistics.tcpDroppedNoMemory == 1)
        let ack = t.poll()
        #expect(ack.last?.0.acknowledgmentNumber == t.remoteISN + 2921, "the dropped bytes are not acknowledged")
        #expect(t.read() == first + second)
        // Memory freed: the peer's retransmission is taken.
        t.send(t.remote(seq: t.remoteISN + 2921, ack: t.localISN + 1), payload: third)
        #expect(t.read() == third)
        #expect(t.stack.statistics.tcpDroppedNoMemory == 1)
    }

    @Test func writePastTheBudgetComesUpShort() {
        var t = TCPHarness { $0.maximumBufferMemory = NetStack.connectionOverhead + ByteRing.minimumStorage }
        t.acceptConnection()
        #expect(t.write(pattern(10_000)) == ByteRing.minimumStorage)
    }

    @Test func synBeyondTheBudgetIsAnsweredWithACookie() {
        var t = TCPHarness { $0.maximumBufferMemory = NetStack.connectionOverhead }
        t.acceptConnection()
        var syn = t.remote(seq: SequenceNumber(5_000), flags: .syn, options: TCPOptions(maximumSegmentSize: 1460))
        syn.sourcePort = 40_000
        t.send(syn)
        let reply = t.poll()
        #expect(reply.count == 1 && reply.first?.0.flags == [.syn, .ack])
        #expect(t.stack.statistics.tcpSYNCookiesSent == 1)
    }

    @Test func synBeyondTheBudgetWithoutCookiesIsRefusedWithReset() {
        var t = TCPHarness {
            $0.maximumBufferMemory = NetStack.connectionOverhead
            $0.tcp.synCookies = false
        }
        t.acceptConnection()
        var syn = t.remote(seq: SequenceNumber(5_000), flags: .syn)
        syn.sourcePort = 40_000
        t.send(syn)
        let reply = t.poll()
        #expect(reply.first?.0.flags == [.rst, .ack])
        #expect(reply.first?.0.acknowledgmentNumber == SequenceNumber(5_001))
        #expect(t.stack.statistics.tcpListenDrops == 1)
    }
}
