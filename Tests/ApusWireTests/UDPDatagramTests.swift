import ApusWire
import Testing

@Suite struct UDPDatagramTests {
    static let datagram = Array(Fixtures.udpFrame[34...])
    static let (client, server) = (Fixtures.client.ip, Fixtures.server.ip)

    @Test func parseEveryField() throws {
        try Self.datagram.withUnsafeBytes { bytes in
            let datagram = try UDPDatagram(bytes)
            #expect(datagram.sourcePort == 40000)
            #expect(datagram.destinationPort == 9090)
            #expect(datagram.length == 19)
            #expect(datagram.checksum == 0x0711)
            #expect(datagram.payloadRange == 8..<19)
            #expect(String(decoding: datagram.payload, as: UTF8.self) == "hello apus\n")
            #expect(UDPRepr(parsing: datagram) == UDPRepr(sourcePort: 40000, destinationPort: 9090, payloadLength: 11))
            try datagram.verifyChecksum(source: Self.client, destination: Self.server)
        }
    }

    /// The pseudo-header makes a datagram delivered to the wrong address fail its checksum.
    @Test func checksumCoversPseudoHeaderAndPayload() throws {
        try Self.datagram.withUnsafeBytes { bytes in
            let datagram = try UDPDatagram(bytes)
            #expect(throws: WireError(.badChecksum, .udp, "checksum")) {
                try datagram.verifyChecksum(source: Self.client, destination: IPv4Address(10, 10, 0, 11))
            }
        }
        let flipped = modified(Self.datagram) { $0[18] ^= 0x01 }
        try flipped.withUnsafeBytes { bytes in
            let datagram = try UDPDatagram(bytes)
            #expect(errorKind { () throws(WireError) in try datagram.verifyChecksum(source: Self.client, destination: Self.server) }
                == .badChecksum)
        }
    }

    /// RFC 768: a zero checksum field means none was computed, so any content passes.
    @Test func zeroChecksumMeansNone() throws {
        let unchecked = modified(Self.datagram) { $0[6] = 0; $0[7] = 0; $0[10] = 0x58 }
        try unchecked.withUnsafeBytes { bytes in
            try UDPDatagram(bytes).verifyChecksum(source: Self.client, destination: Self.server)
        }
    }

    /// The whole frame from reprs, payload written first, is the fixture.
    @Test func emitFrameMatchesFixture() throws {
        let udp = UDPRepr(sourcePort: 40000, destinationPort: 9090, payloadLength: 11)
        let ip = IPv4Repr(source: Self.client, destination: Self.server, protocol: .udp,
                          payloadLength: udp.bufferLength, identification: 0xbeef)
        let link = EthernetRepr(destination: Fixtures.server.mac, source: Fixtures.client.mac, etherType: .ipv4)
        let length = link.bufferLength(payloadLength: ip.bufferLength)
        #expect(length == 53)
        let bytes = try emitting(count: length) { frame throws(WireError) in
            let payloadStart = link.headerLength + ip.headerLength + udp.headerLength
            Array("hello apus\n".utf8).withUnsafeBytes { frame.from(payloadStart).copyMemory(from: $0) }
            try udp.emit(into: frame.from(34), checksum: .compute(source: Self.client, destination: Self.server))
            try ip.emit(into: frame.from(14))
            try link.emit(into: frame)
        }
        #expect(bytes == Fixtures.udpFrame)
    }

    /// RFC 768: a computed checksum of zero is sent as all ones, since zero means "none".
    @Test func computedZeroIsSentAsAllOnes() throws {
        let repr = UDPRepr(sourcePort: 1, destinationPort: 2, payloadLength: 2)
        // With a zero payload word the checksum is c; a payload word equal to c makes the sum all ones.
        let probe = try emitting(count: 10, fill: 0) { b throws(WireError) in
            try repr.emit(into: b, checksum: .compute(source: Self.client, destination: Self.server))
        }
        let bytes = try emitting(count: 10) { b throws(WireError) in
            b[8] = probe[6]
            b[9] = probe[7]
            try repr.emit(into: b, checksum: .compute(source: Self.client, destination: Self.server))
        }
        #expect(bytes[6] == 0xFF && bytes[7] == 0xFF)
        try bytes.withUnsafeBytes { try UDPDatagram($0).verifyChecksum(source: Self.client, destination: Self.server) }
    }

    @Test func emitZeroAndPartialChecksums() throws {
        let repr = UDPRepr(sourcePort: 40000, destinationPort: 9090, payloadLength: 11)
        let payload = Array("hello apus\n".utf8)
        let none = try emitting(count: 19) { b throws(WireError) in
            payload.withUnsafeBytes { b.from(8).copyMemory(from: $0) }
            try repr.emit(into: b, checksum: .zero)
        }
        #expect(none[6] == 0 && none[7] == 0)
        let partial = try emitting(count: 19) { b throws(WireError) in
            payload.withUnsafeBytes { b.from(8).copyMemory(from: $0) }
            try repr.emit(into: b, checksum: .pseudoHeaderOnly(source: Self.client, destination: Self.server))
        }
        // 0a0a + 0001 + 0a0a + 000a + 0011 + 0013 = 0x1443
        #expect(partial[6] == 0x14 && partial[7] == 0x43)
        try partial.withUnsafeBytes { bytes in
            let datagram = try UDPDatagram(bytes)
            #expect(datagram.hasPartialChecksum(source: Self.client, destination: Self.server))
            #expect(errorKind { () throws(WireError) in try datagram.verifyChecksum(source: Self.client, destination: Self.server) }
                == .badChecksum)
        }
        try Self.datagram.withUnsafeBytes { bytes throws in
            #expect(!(try UDPDatagram(bytes).hasPartialChecksum(source: Self.client, destination: Self.server)))
        }
    }

    func kind(_ datagram: [UInt8]) -> WireError.Kind? {
        datagram.withUnsafeBytes { bytes in errorKind { () throws(WireError) in _ = try UDPDatagram(bytes) } }
    }

    @Test func lengthFieldRules() throws {
        #expect(kind(modified(Self.datagram) { $0[5] = 7 }) == .malformed, "below the header")
        #expect(kind(modified(Self.datagram) { $0[5] = 0 }) == .malformed)
        #expect(kind(modified(Self.datagram) { $0[5] = 20 }) == .truncated, "beyond the bytes")
        #expect(kind(modified(Self.datagram) { $0[5] = 8 }) == nil, "an empty payload is fine")
        // Bytes beyond the length field are not payload.
        try (Self.datagram + [0xAA, 0xBB]).withUnsafeBytes { bytes in
            let datagram = try UDPDatagram(bytes)
            #expect(datagram.payload.count == 11)
            try datagram.verifyChecksum(source: Self.client, destination: Self.server)
        }
    }

    @Test func emitChecks() {
        let repr = UDPRepr(sourcePort: 1, destinationPort: 2, payloadLength: 100)
        #expect(errorKind { () throws(WireError) in
            _ = try emitting(count: 107) { b throws(WireError) in try repr.emit(into: b, checksum: .zero) }
        } == .bufferTooSmall)
        let huge = UDPRepr(sourcePort: 1, destinationPort: 2, payloadLength: 65528)
        #expect(errorKind { () throws(WireError) in
            _ = try emitting(count: 8) { b throws(WireError) in try huge.emit(into: b, checksum: .zero) }
        } == .malformed)
    }
}
