import ApusWire
import Testing

/// Every prefix of every fixture fails as `truncated`, from the layer that notices, and
/// never reads past what it was given (debug builds trap on out-of-bounds loads).
@Suite struct TruncationTests {
    @Test(arguments: Fixtures.frames.map(\.name))
    func everyPrefixOfEveryFrameIsTruncated(_ name: String) throws {
        let fixture = try #require(Fixtures.frames.first { $0.name == name })
        for length in 0...fixture.bytes.count {
            let error = fixture.bytes[..<length].withUnsafeBytes { bytes in
                wireError { () throws(WireError) in try parseFrame(bytes) }
            }
            if length < fixture.meaningful {
                #expect(error?.kind == .truncated, "\(name) cut to \(length): \(String(describing: error))")
            } else {
                #expect(error == nil, "\(name) cut to \(length) (only padding removed)")
            }
        }
    }

    @Test(arguments: [Fixtures.firstFragmentPacket, Fixtures.lastFragmentPacket])
    func everyPrefixOfAPacketIsTruncated(_ packet: [UInt8]) {
        for length in 0..<packet.count {
            let kind = packet[..<length].withUnsafeBytes { bytes in errorKind { () throws(WireError) in _ = try IPv4Packet(bytes) } }
            #expect(kind == .truncated, "cut to \(length)")
        }
    }

    /// The transport parsers on their own bytes: any cut into a header is `truncated`;
    /// for UDP and ICMP the length bounds are their own.
    @Test func transportHeadersCutShort() {
        let udp = Array(Fixtures.udpFrame[34...])
        let icmp = Array(Fixtures.echoRequestFrame[34...])
        let arp = Array(Fixtures.arpReplyFrame[14...])
        for length in 0..<udp.count {
            #expect(udp[..<length].withUnsafeBytes { b in errorKind { () throws(WireError) in _ = try UDPDatagram(b) } } == .truncated)
        }
        for length in 0..<8 {
            #expect(icmp[..<length].withUnsafeBytes { b in errorKind { () throws(WireError) in _ = try ICMPv4Packet(b) } } == .truncated)
        }
        for length in 0..<28 {
            #expect(arp[..<length].withUnsafeBytes { b in errorKind { () throws(WireError) in _ = try ARPPacket(b) } } == .truncated)
        }
    }

    /// The fixtures themselves parse cleanly with every checksum verified.
    @Test(arguments: Fixtures.frames.map(\.name))
    func fixturesParseAndVerify(_ name: String) throws {
        let fixture = try #require(Fixtures.frames.first { $0.name == name })
        let error = fixture.bytes.withUnsafeBytes { bytes in wireError { () throws(WireError) in try parseFrame(bytes) } }
        #expect(error == nil)
    }
}
