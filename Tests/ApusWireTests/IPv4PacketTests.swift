import ApusWire
import Testing

@Suite struct IPv4PacketTests {
    @Test func parseEveryField() throws {
        try Fixtures.synFrame.withUnsafeBytes { frame in
            let packet = try IPv4Packet(frame.from(14))
            #expect(packet.headerLength == 20)
            #expect(packet.dscp == 0)
            #expect(packet.ecn == 0)
            #expect(packet.totalLength == 60)
            #expect(packet.identification == 0x3f21)
            #expect(packet.dontFragment)
            #expect(!packet.moreFragments)
            #expect(packet.fragmentOffset == 0)
            #expect(!packet.isFragment)
            #expect(packet.timeToLive == 64)
            #expect(packet.protocol == .tcp)
            #expect(packet.headerChecksum == 0xe77c)
            #expect(packet.source == Fixtures.client.ip)
            #expect(packet.destination == Fixtures.server.ip)
            #expect(packet.options.isEmpty)
            #expect(packet.payloadRange == 20..<60)
            try packet.verifyChecksum()

            let repr = try IPv4Repr(parsing: packet)
            #expect(repr == IPv4Repr(source: Fixtures.client.ip, destination: Fixtures.server.ip, protocol: .tcp,
                                     payloadLength: 40, identification: 0x3f21))
        }
    }

    @Test func badHeaderChecksumIsDetected() throws {
        for index in [15, 21, 24, 25, 33] {
            let frame = modified(Fixtures.synFrame) { $0[index] ^= 0x04 }
            try frame.withUnsafeBytes { bytes in
                let packet = try IPv4Packet(bytes.from(14))
                #expect(throws: WireError(.badChecksum, .ipv4, "header checksum")) { try packet.verifyChecksum() }
            }
        }
    }

    @Test func emitMatchesFixture() throws {
        let repr = IPv4Repr(source: Fixtures.client.ip, destination: Fixtures.server.ip, protocol: .udp,
                            payloadLength: 19, identification: 0xbeef)
        #expect(repr.bufferLength == 39)
        let bytes = try emitting(count: repr.bufferLength) { buffer throws(WireError) in try repr.emit(into: buffer) }
        #expect(Array(bytes[..<20]) == Array(Fixtures.udpFrame[14..<34]))
        #expect(bytes[20...].allSatisfy { $0 == 0xEE }, "the payload is not touched")
    }

    @Test func roundTripKeepsTrafficClassAndFlags() throws {
        let repr = IPv4Repr(source: Fixtures.server.ip, destination: Fixtures.client.ip, protocol: IPProtocol(rawValue: 200),
                            payloadLength: 3, timeToLive: 1, dscp: 46, ecn: 2, identification: 0xFFFF, dontFragment: false)
        let bytes = try emitting(count: 23) { buffer throws(WireError) in try repr.emit(into: buffer) }
        #expect(bytes[1] == 0xBA)
        try bytes.withUnsafeBytes { buffer in
            let packet = try IPv4Packet(buffer)
            try packet.verifyChecksum()
            #expect(try IPv4Repr(parsing: packet) == repr)
        }
    }

    /// Ethernet pads a short frame; the packet (and so its payload) ends at the total length.
    @Test func totalLengthBoundsThePayload() throws {
        try Fixtures.ipOptionsFrame.withUnsafeBytes { frame in
            let ethernet = try EthernetFrame(frame)
            #expect(ethernet.payload.count == 46)
            let packet = try IPv4Packet(ethernet.payload)
            #expect(packet.bytes.count == 34)
            #expect(packet.payload.count == 10)
            #expect(Array(packet.payload) == [0x08, 0x00, 0x96, 0x95, 0x00, 0x01, 0x00, 0x07, 0x61, 0x62])
        }
    }

    /// Options are skipped, not rejected: the payload starts after IHL × 4 bytes.
    @Test func optionsAreSkipped() throws {
        try Fixtures.ipOptionsFrame.withUnsafeBytes { frame in
            let packet = try IPv4Packet(frame.from(14))
            #expect(packet.headerLength == 24)
            #expect(Array(packet.options) == [0x94, 0x04, 0x00, 0x00])
            try packet.verifyChecksum()
            let repr = try IPv4Repr(parsing: packet)
            #expect(repr.payloadLength == 10)
            #expect(repr.headerLength == 20)
            let icmp = try ICMPv4Repr(parsing: ICMPv4Packet(packet.payload))
            #expect(icmp == ICMPv4Repr(type: .echoRequest, identifier: 1, sequenceNumber: 7, payloadLength: 2))
        }
    }

    func kind(_ packet: [UInt8]) -> WireError.Kind? {
        packet.withUnsafeBytes { bytes in errorKind { () throws(WireError) in _ = try IPv4Packet(bytes) } }
    }

    static let synPacket = Array(Fixtures.synFrame[14...])

    @Test func versionOtherThanFourIsMalformed() {
        #expect(kind(modified(Self.synPacket) { $0[0] = 0x65 }) == .malformed)
        #expect(kind(modified(Self.synPacket) { $0[0] = 0x05 }) == .malformed)
    }

    @Test(arguments: [0, 1, 4] as [UInt8])
    func headerLengthBelowFiveWordsIsMalformed(_ ihl: UInt8) {
        #expect(kind(modified(Self.synPacket) { $0[0] = 0x40 | ihl }) == .malformed)
    }

    @Test func headerLengthBeyondTheBytesIsTruncated() {
        // IHL 15 = 60 bytes of header in a 60-byte packet is fine; the total length then is too small.
        #expect(kind(modified(Self.synPacket) { $0[0] = 0x4F }) == nil)
        #expect(kind(modified(Array(Self.synPacket[..<40])) { $0[0] = 0x4F; $0[3] = 40 }) == .truncated)
    }

    @Test func totalLengthRules() {
        #expect(kind(modified(Self.synPacket) { $0[3] = 19 }) == .malformed, "below the header")
        #expect(kind(modified(Self.synPacket) { $0[0] = 0x46; $0[3] = 23 }) == .malformed, "below IHL × 4")
        #expect(kind(modified(Self.synPacket) { $0[3] = 61 }) == .truncated, "beyond the bytes")
        #expect(kind(modified(Self.synPacket) { $0[2] = 0xFF }) == .truncated)
        #expect(kind(modified(Self.synPacket) { $0[3] = 20 }) == nil, "an empty payload is fine")
    }

    @Test func fragmentsAreRecognised() throws {
        try Fixtures.firstFragmentPacket.withUnsafeBytes { bytes in
            let packet = try IPv4Packet(bytes)
            try packet.verifyChecksum()
            #expect(packet.moreFragments && packet.fragmentOffset == 0 && packet.isFragment && !packet.dontFragment)
            #expect(throws: WireError(.unsupported, .ipv4, "fragment")) { try IPv4Repr(parsing: packet) }
        }
        try Fixtures.lastFragmentPacket.withUnsafeBytes { bytes in
            let packet = try IPv4Packet(bytes)
            try packet.verifyChecksum()
            #expect(!packet.moreFragments && packet.fragmentOffset == 1480 && packet.isFragment)
            #expect(throws: WireError(.unsupported, .ipv4, "fragment")) { try IPv4Repr(parsing: packet) }
        }
    }

    /// DF alone, and the reserved "evil" bit, do not make a fragment.
    @Test func flagsWithoutOffsetOrMoreFragmentsAreWhole() throws {
        for flags: UInt8 in [0x40, 0x80, 0x00] {
            let packet = modified(Self.synPacket) { $0[6] = flags }
            try packet.withUnsafeBytes { bytes throws in
                #expect(!(try IPv4Packet(bytes).isFragment))
            }
        }
    }

    @Test func emitRejectsImpossibleLengths() {
        let tooLong = IPv4Repr(source: .any, destination: .broadcast, protocol: .udp, payloadLength: 65516)
        #expect(errorKind { () throws(WireError) in _ = try emitting(count: 20) { b throws(WireError) in try tooLong.emit(into: b) } }
            == .malformed)
        let fine = IPv4Repr(source: .any, destination: .broadcast, protocol: .udp, payloadLength: 10)
        #expect(errorKind { () throws(WireError) in _ = try emitting(count: 29) { b throws(WireError) in try fine.emit(into: b) } }
            == .bufferTooSmall)
    }
}
