@testable import ApusNet
import ApusTesting
import ApusWire
import Testing

@Suite struct UDPTests {
    var stack = NetStack(configuration: Host.configuration())
    let now = NetInstant.seconds(1)

    init() {
        _ = stack.arpCache.learn(Host.remoteIP, at: Host.remoteMAC, now: now)
    }

    @Test mutating func datagramIsQueuedWithItsSource() throws {
        let endpoint = try stack.bindUDP(port: 9090)
        stack.receive(Fixtures.udpFrame, at: now)
        #expect(stack.drainEvents() == [.datagram(endpoint)])
        let received = try stack.receiveDatagram(on: endpoint)
        #expect(received?.payload == Array("hello apus\n".utf8))
        #expect(received?.source == UDPSource(address: Host.remoteIP, port: 40000, destination: Host.localIP))
        #expect(try stack.receiveDatagram(on: endpoint) == nil)
    }

    @Test mutating func datagramIsDeliveredInPlace() throws {
        struct Recorder: NetDelivery {
            var payloads: [[UInt8]] = []
            mutating func deliver(datagram: UnsafeRawBufferPointer, from source: UDPSource, on endpoint: UDPHandle) -> Bool {
                payloads.append(Array(datagram))
                return true
            }
        }
        let endpoint = try stack.bindUDP(port: 9090)
        var recorder = Recorder()
        Fixtures.udpFrame.withUnsafeBytes { stack.receive($0, at: now, delivery: &recorder) }
        #expect(recorder.payloads == [Array("hello apus\n".utf8)])
        #expect(try stack.receiveDatagram(on: endpoint) == nil)
        #expect(stack.drainEvents().isEmpty)
    }

    @Test mutating func badChecksumIsDropped() throws {
        _ = try stack.bindUDP(port: 9090)
        var frame = Fixtures.udpFrame
        frame[44] ^= 0x01
        stack.receive(frame, at: now)
        #expect(stack.statistics.droppedBadChecksum == 1)
        #expect(stack.statistics.udpDelivered == 0)
    }

    @Test mutating func zeroChecksumIsAccepted() throws {
        let endpoint = try stack.bindUDP(port: 9090)
        stack.receive(Frame.udp(from: 1, to: 9090, payload: [7], checksum: .zero), at: now)
        #expect(try stack.receiveDatagram(on: endpoint)?.payload == [7])
    }

    @Test mutating func partialChecksumIsDroppedUnlessTheLinkIsSaidToDeliverThem() throws {
        let endpoint = try stack.bindUDP(port: 9090)
        let partial = TransportChecksum.pseudoHeaderOnly(source: Host.remoteIP, destination: Host.localIP)
        stack.receive(Frame.udp(from: 1, to: 9090, payload: [1, 2, 3], checksum: partial), at: now)
        #expect(try stack.receiveDatagram(on: endpoint) == nil)
        #expect(stack.statistics.droppedBadChecksum == 1)
    }

    @Test mutating func partialChecksumFromLocalSenderIsAcceptedWhenConfigured() throws {
        var configuration = stack.configuration
        configuration.acceptPartialChecksums = true
        stack = NetStack(configuration: configuration)
        let endpoint = try stack.bindUDP(port: 9090)
        let partial = TransportChecksum.pseudoHeaderOnly(source: Host.remoteIP, destination: Host.localIP)
        stack.receive(Frame.udp(from: 1, to: 9090, payload: [1, 2, 3], checksum: partial), at: now)
        #expect(try stack.receiveDatagram(on: endpoint)?.payload == [1, 2, 3])
        #expect(stack.statistics.partialChecksumsAccepted == 1)
    }

    @Test mutating func unboundPortIsCounted() {
        stack.receive(Fixtures.udpFrame, at: now)
        #expect(stack.statistics.udpNoEndpoint == 1)
    }

    @Test mutating func fullQueueDropsAndCounts() throws {
        var configuration = Host.configuration()
        configuration.maximumQueuedDatagrams = 2
        stack = NetStack(configuration: configuration)
        let endpoint = try stack.bindUDP(port: 9090)
        for _ in 0..<3 { stack.receive(Fixtures.udpFrame, at: now) }
        #expect(stack.statistics.udpQueueDrops == 1)
        #expect(stack.drainEvents() == [.datagram(endpoint)], "one event while the queue is non-empty")
    }

    @Test mutating func sendWritesExactFrame() throws {
        let endpoint = try stack.bindUDP(port: 9090)
        var collector = FrameCollector()
        try Array("hello apus\n".utf8).withUnsafeBytes {
            try stack.send(datagram: $0, from: endpoint, to: Host.remoteIP, port: 40000, at: now, transmitter: &collector)
        }
        #expect(collector.frames == [Fixtures.udpReplyFrame])
    }

    @Test mutating func sendWithoutTXFrameThrowsWouldBlock() throws {
        let endpoint = try stack.bindUDP(port: 9090)
        var collector = FrameCollector(capacity: 0)
        #expect(throws: NetError(.wouldBlock, "udp send")) {
            try [1].withUnsafeBytes {
                try stack.send(datagram: $0, from: endpoint, to: Host.remoteIP, port: 1, at: now, transmitter: &collector)
            }
        }
    }

    @Test mutating func oversizedDatagramIsRejected() throws {
        let endpoint = try stack.bindUDP(port: 9090)
        var collector = FrameCollector()
        #expect(throws: NetError(.messageTooLarge, "udp send")) {
            try [UInt8](repeating: 0, count: 1473).withUnsafeBytes {
                try stack.send(datagram: $0, from: endpoint, to: Host.remoteIP, port: 1, at: now, transmitter: &collector)
            }
        }
    }

    @Test mutating func portCannotBeBoundTwice() throws {
        _ = try stack.bindUDP(port: 9090)
        #expect(throws: NetError(.addressInUse, "udp bind")) { try stack.bindUDP(port: 9090) }
    }
}
