@testable import ApusNet
import ApusTesting
import ApusWire
import Testing

@Suite struct IPv4InputTests {
    var stack = NetStack(configuration: Host.configuration())
    let now = NetInstant.seconds(1)

    mutating func sent() -> [[UInt8]] {
        var collector = FrameCollector()
        stack.poll(at: now, transmitter: &collector)
        return collector.frames
    }

    @Test mutating func echoRequestIsAnswered() {
        stack.receive(Fixtures.echoRequestFrame, at: now)
        #expect(sent() == [Fixtures.echoReplyFrame])
        #expect(stack.statistics.icmpEchoReplies == 1)
    }

    @Test mutating func echoWithBadChecksumIsDropped() {
        var frame = Fixtures.echoRequestFrame
        frame[40] ^= 0xFF
        stack.receive(frame, at: now)
        #expect(sent().isEmpty)
        #expect(stack.statistics.droppedBadChecksum == 1)
    }

    @Test mutating func echoReplyIsNotAnswered() {
        var frame = Fixtures.echoReplyFrame
        // Swap MACs and addresses so it is addressed to us; the checksums stay valid.
        frame.replaceSubrange(0..<12, with: Fixtures.echoRequestFrame[0..<12])
        frame.replaceSubrange(26..<34, with: Fixtures.echoRequestFrame[26..<34])
        stack.receive(frame, at: now)
        #expect(sent().isEmpty)
        #expect(stack.statistics.icmpIgnored == 1)
    }

    @Test mutating func badHeaderChecksumIsDropped() {
        var frame = Fixtures.udpFrame
        frame[24] ^= 0x01
        stack.receive(frame, at: now)
        #expect(stack.statistics.droppedBadChecksum == 1)
    }

    @Test mutating func fragmentsAreDroppedAndCounted() {
        var packet = Array(Fixtures.udpFrame[14...])
        packet[6] = 0x20  // MF, offset 0
        packet[10] = 0; packet[11] = 0
        let checksum = packet.withUnsafeBytes { InternetChecksum.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<20])) }
        packet[10] = UInt8(checksum >> 8); packet[11] = UInt8(checksum & 0xFF)
        stack.receive(Array(Fixtures.udpFrame[..<14]) + packet, at: now)
        #expect(stack.statistics.droppedFragments == 1)
        #expect(stack.statistics.udpNoEndpoint == 0)
    }

    @Test mutating func packetForAnotherAddressIsDropped() {
        stack.receive(Frame.udp(from: 1, to: 2, payload: [0], destination: Host.otherIP), at: now)
        #expect(stack.statistics.droppedNotForUs == 1)
    }

    @Test mutating func frameForAnotherMACIsDropped() {
        var frame = Fixtures.udpFrame
        frame[5] = 0x77
        stack.receive(frame, at: now)
        #expect(stack.statistics.droppedNotForUs == 1)
    }

    @Test mutating func unknownEtherTypeIsCounted() {
        stack.receive(Frame.ethernet(.ipv6, payload: [UInt8](repeating: 0, count: 40)), at: now)
        #expect(stack.statistics.droppedUnknownEtherType == 1)
    }

    @Test mutating func unknownProtocolIsCounted() {
        stack.receive(Frame.ethernet(.ipv4, payload: Frame.ipv4(IPProtocol(rawValue: 47), payload: [1, 2, 3, 4])), at: now)
        #expect(stack.statistics.droppedUnknownProtocol == 1)
    }

    @Test mutating func truncatedFrameIsMalformed() {
        stack.receive(Array(Fixtures.udpFrame[..<30]), at: now)
        stack.receive([0x01, 0x02], at: now)
        #expect(stack.statistics.droppedMalformed == 2)
    }

    @Test mutating func echoIsAnsweredThroughGatewayMACWhenOffLink() throws {
        var configuration = Host.configuration()
        configuration.interface.gateway = IPv4Address(10, 10, 0, 254)
        stack = NetStack(configuration: configuration)
        let gatewayMAC = MACAddress(0x02, 0, 0, 0, 0, 0xFE)
        _ = stack.arpCache.learn(IPv4Address(10, 10, 0, 254), at: gatewayMAC, now: now)
        var frame = Frame.ethernet(.ipv4, payload: Frame.ipv4(.icmp, payload: Array(Fixtures.echoRequestFrame[34...]),
                                                              from: IPv4Address(192, 0, 2, 7)))
        frame.replaceSubrange(6..<12, with: [0x02, 0, 0, 0, 0, 0xFE])
        stack.receive(frame, at: now)
        let reply = try Sent(sent()[0])
        #expect(reply.ethernet.destination == gatewayMAC)
        #expect(reply.ip?.destination == IPv4Address(192, 0, 2, 7))
        #expect(reply.icmp?.type == .echoReply)
        #expect(reply.payload == Fixtures.echoData)
    }
}
