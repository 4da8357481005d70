import ApusWire
import Testing

@Suite struct ARPPacketTests {
    @Test func parseRequestIgnoresPadding() throws {
        try Fixtures.arpRequestFrame.withUnsafeBytes { bytes in
            let frame = try EthernetFrame(bytes)
            #expect(frame.destination == .broadcast)
            #expect(frame.etherType == .arp)
            let packet = try ARPPacket(frame.payload)
            #expect(packet.bytes.count == 28)
            #expect(packet.operation == .request)
            #expect(packet.senderHardwareAddress == Fixtures.client.mac)
            #expect(packet.senderProtocolAddress == Fixtures.client.ip)
            #expect(packet.targetHardwareAddress == .zero)
            #expect(packet.targetProtocolAddress == Fixtures.server.ip)
        }
    }

    /// Apus's reply to the fixture request, emitted from reprs, is exactly the reply fixture.
    @Test func emitReply() throws {
        let request = try Fixtures.arpRequestFrame.withUnsafeBytes { bytes in
            try ARPRepr(parsing: ARPPacket(EthernetFrame(bytes).payload))
        }
        let reply = ARPRepr(operation: .reply,
                            senderHardwareAddress: Fixtures.server.mac, senderProtocolAddress: request.targetProtocolAddress,
                            targetHardwareAddress: request.senderHardwareAddress, targetProtocolAddress: request.senderProtocolAddress)
        let link = EthernetRepr(destination: request.senderHardwareAddress, source: Fixtures.server.mac, etherType: .arp)
        let bytes = try emitting(count: link.bufferLength(payloadLength: reply.bufferLength)) { frame throws(WireError) in
            try link.emit(into: frame)
            try reply.emit(into: frame.from(link.headerLength))
        }
        #expect(bytes == Fixtures.arpReplyFrame)
    }

    @Test func roundTrip() throws {
        let original = Array(Fixtures.arpReplyFrame[14...])
        let repr = try original.withUnsafeBytes { try ARPRepr(parsing: ARPPacket($0)) }
        #expect(repr.operation == .reply)
        let bytes = try emitting(count: 28) { buffer throws(WireError) in try repr.emit(into: buffer) }
        #expect(bytes == original)
    }

    /// Apus resolves IPv4 over Ethernet only; other pairings are well formed but not ours.
    @Test(arguments: [(14, 0x01), (15, 0x06), (16, 0x86), (18, 0x08), (19, 0x10)] as [(Int, UInt8)])
    func otherHardwareOrProtocolIsUnsupported(offset: Int, value: UInt8) {
        let frame = modified(Fixtures.arpRequestFrame) { $0[offset] = value }
        let kind = frame.withUnsafeBytes { bytes in errorKind { () throws(WireError) in _ = try ARPPacket(bytes.from(14)) } }
        #expect(kind == .unsupported)
    }

    @Test func unknownOperationSurvives() throws {
        let frame = modified(Fixtures.arpRequestFrame) { $0[21] = 9 }
        try frame.withUnsafeBytes { bytes throws in
            #expect(try ARPRepr(parsing: ARPPacket(bytes.from(14))).operation == ARPOperation(rawValue: 9))
        }
    }

    @Test func emitIntoTooSmallBuffer() {
        let repr = ARPRepr(operation: .request, senderHardwareAddress: Fixtures.server.mac, senderProtocolAddress: Fixtures.server.ip,
                           targetHardwareAddress: .zero, targetProtocolAddress: Fixtures.client.ip)
        #expect(throws: WireError(.bufferTooSmall, .arp, "no room for packet")) {
            _ = try emitting(count: 27) { buffer throws(WireError) in try repr.emit(into: buffer) }
        }
    }
}
