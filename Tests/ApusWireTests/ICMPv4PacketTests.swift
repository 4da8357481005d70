import ApusWire
import Testing

@Suite struct ICMPv4PacketTests {
    @Test func parseEchoRequest() throws {
        try Fixtures.echoRequestFrame.withUnsafeBytes { frame in
            let ip = try IPv4Packet(frame.from(14))
            #expect(ip.protocol == .icmp)
            let packet = try ICMPv4Packet(ip.payload)
            #expect(packet.type == .echoRequest)
            #expect(packet.code == 0)
            #expect(packet.checksum == 0xa583)
            #expect(packet.identifier == 0x0d2a)
            #expect(packet.sequenceNumber == 1)
            #expect(Array(packet.payload) == Fixtures.echoData)
            try packet.verifyChecksum()
            let repr = try ICMPv4Repr(parsing: packet)
            #expect(repr == ICMPv4Repr(type: .echoRequest, identifier: 0x0d2a, sequenceNumber: 1, payloadLength: 24))
            #expect(repr.bufferLength == 32)
        }
    }

    /// The whole reply frame built from reprs, data copied, equals the fixture.
    @Test func emitEchoReplyFrame() throws {
        let request = ICMPv4Repr(type: .echoRequest, identifier: 0x0d2a, sequenceNumber: 1, payloadLength: 24)
        let reply = request.reply
        let ip = IPv4Repr(source: Fixtures.server.ip, destination: Fixtures.client.ip, protocol: .icmp,
                          payloadLength: reply.bufferLength)
        let link = EthernetRepr(destination: Fixtures.client.mac, source: Fixtures.server.mac, etherType: .ipv4)
        let bytes = try emitting(count: 66) { frame throws(WireError) in
            let data = frame.from(14 + 20 + 8)
            Fixtures.echoData.withUnsafeBytes { data.copyMemory(from: $0) }
            try reply.emit(into: frame.from(34))
            try ip.emit(into: frame.from(14))
            try link.emit(into: frame)
        }
        #expect(bytes == Fixtures.echoReplyFrame)
    }

    /// The stack can answer in the request's own frame: emit only rewrites headers, and the
    /// data is already where it belongs.
    @Test func emitEchoReplyInPlace() throws {
        var frame = Fixtures.echoRequestFrame
        try frame.withUnsafeMutableBytes { buffer in
            let bytes = UnsafeRawBufferPointer(buffer)
            let ethernet = EthernetRepr(parsing: try EthernetFrame(bytes))
            let ip = try IPv4Repr(parsing: IPv4Packet(bytes.from(14)))
            let echo = try ICMPv4Repr(parsing: ICMPv4Packet(bytes.from(34)))
            try echo.reply.emit(into: buffer.from(34))
            try IPv4Repr(source: ip.destination, destination: ip.source, protocol: .icmp, payloadLength: ip.payloadLength)
                .emit(into: buffer.from(14))
            try EthernetRepr(destination: ethernet.source, source: ethernet.destination, etherType: .ipv4)
                .emit(into: buffer)
        }
        #expect(frame == Fixtures.echoReplyFrame)
    }

    /// RFC 1624: turning a request into a reply changes one word, so the checksum can follow it.
    @Test func incrementalChecksumForTypeChange() {
        #expect(InternetChecksum.update(0xa583, replacing: UInt16(0x0800), with: UInt16(0x0000)) == 0xad83)
    }

    @Test func badChecksumIsDetected() throws {
        let frame = modified(Fixtures.echoRequestFrame) { $0[60] ^= 0x80 }
        try frame.withUnsafeBytes { bytes in
            let packet = try ICMPv4Packet(bytes.from(34))
            #expect(throws: WireError(.badChecksum, .icmp, "message checksum")) { try packet.verifyChecksum() }
        }
    }

    @Test func nonEchoMessagesAreUnsupported() throws {
        let unreachable: [UInt8] = [0x03, 0x03, 0xfc, 0xfc, 0x00, 0x00, 0x00, 0x00]
        try unreachable.withUnsafeBytes { bytes in
            let packet = try ICMPv4Packet(bytes)
            try packet.verifyChecksum()
            #expect(packet.type == .destinationUnreachable)
            #expect(errorKind { () throws(WireError) in _ = try ICMPv4Repr(parsing: packet) } == .unsupported)
        }
        let badCode = modified(Array(Fixtures.echoRequestFrame[34...])) { $0[1] = 1 }
        let kind = badCode.withUnsafeBytes { bytes in
            errorKind { () throws(WireError) in _ = try ICMPv4Repr(parsing: ICMPv4Packet(bytes)) }
        }
        #expect(kind == .malformed)
    }

    @Test func emitChecks() {
        let other = ICMPv4Repr(type: .timeExceeded, identifier: 0, sequenceNumber: 0, payloadLength: 0)
        #expect(errorKind { () throws(WireError) in _ = try emitting(count: 8) { b throws(WireError) in try other.emit(into: b) } }
            == .unsupported)
        let echo = ICMPv4Repr(type: .echoReply, identifier: 0, sequenceNumber: 0, payloadLength: 4)
        #expect(errorKind { () throws(WireError) in _ = try emitting(count: 11) { b throws(WireError) in try echo.emit(into: b) } }
            == .bufferTooSmall)
    }
}
