import ApusWire
import Testing

/// Seeded, bounded fuzzing: random and mutated frames go through every parser and every
/// accessor. The assertion is that nothing traps (tests run as a debug build, where an
/// out-of-bounds load is a crash) and that every failure is a `WireError`.
@Suite struct FuzzTests {
    /// Runs every parser over `bytes` at the offsets where each header could start.
    static func exercise(_ bytes: UnsafeRawBufferPointer) {
        _ = wireError { () throws(WireError) in try parseFrame(bytes, verifyChecksums: false) }
        _ = wireError { () throws(WireError) in try parseFrame(bytes, verifyChecksums: true) }
        _ = wireError { () throws(WireError) in try parsePacket(bytes, verifyChecksums: false) }
        for offset in [0, 14, 18, 34] where offset <= bytes.count {
            let tail = bytes.from(offset)
            _ = wireError { () throws(WireError) in _ = ARPRepr(parsing: try ARPPacket(tail)) }
            _ = wireError { () throws(WireError) in
                let packet = try ICMPv4Packet(tail)
                _ = (packet.type, packet.code, packet.identifier, packet.sequenceNumber, packet.payload.count)
                try? packet.verifyChecksum()
                _ = try ICMPv4Repr(parsing: packet)
            }
            _ = wireError { () throws(WireError) in
                let datagram = try UDPDatagram(tail)
                try? datagram.verifyChecksum(source: .any, destination: .broadcast)
                _ = UDPRepr(parsing: datagram)
            }
            _ = wireError { () throws(WireError) in
                let segment = try TCPSegment(tail)
                _ = (segment.flags, segment.windowSize, segment.urgentPointer, segment.segmentLength, segment.payload.count)
                try? segment.verifyChecksum(source: .any, destination: .broadcast)
                _ = try TCPRepr(parsing: segment)
            }
            _ = wireError { () throws(WireError) in _ = try TCPOptions(parsing: tail.count > 40 ? UnsafeRawBufferPointer(rebasing: tail[..<40]) : tail) }
        }
    }

    @Test func randomFrames() {
        var generator = SeededGenerator(seed: 0xA9_05)
        for _ in 0..<3000 {
            let length = Int.random(in: 0...128, using: &generator)
            var frame = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Make the interesting paths likely: plausible EtherType, version/IHL and data offset.
            if length > 14 && Bool.random(using: &generator) {
                frame[12] = 0x08
                frame[13] = [0x00, 0x06][Int.random(in: 0...1, using: &generator)]
            }
            if length > 14 && Bool.random(using: &generator) { frame[14] = 0x45 }
            if length > 46 && Bool.random(using: &generator) { frame[23] = [1, 6, 17][Int.random(in: 0...2, using: &generator)] }
            frame.withUnsafeBytes { Self.exercise($0) }
        }
    }

    @Test func mutatedFixtures() {
        var generator = SeededGenerator(seed: 0x5EED)
        let fixtures = Fixtures.frames.map(\.bytes)
        for round in 0..<4000 {
            var frame = fixtures[round % fixtures.count]
            switch Int.random(in: 0..<4, using: &generator) {
            case 0:  // flip a few bits
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    frame[Int.random(in: 0..<frame.count, using: &generator)] ^= 1 << UInt8.random(in: 0...7, using: &generator)
                }
            case 1:  // smash a byte, favouring length and offset fields
                let hot = [14, 16, 17, 34 + 4, 34 + 5, 34 + 12, 54, 55, 56, 57]
                let index = Bool.random(using: &generator) ? hot.randomElement(using: &generator)! : Int.random(in: 0..<frame.count, using: &generator)
                if index < frame.count { frame[index] = UInt8.random(in: 0...255, using: &generator) }
            case 2:  // cut or extend
                let length = Int.random(in: 0...frame.count + 20, using: &generator)
                frame = length <= frame.count ? Array(frame[..<length]) : frame + [UInt8](repeating: 0xFF, count: length - frame.count)
            default:  // random TCP option bytes in a SYN
                if frame.count >= 74 {
                    for index in 54..<74 { frame[index] = UInt8.random(in: 0...255, using: &generator) }
                }
            }
            frame.withUnsafeBytes { Self.exercise($0) }
        }
    }

    /// Every option byte string up to a few bytes, exhaustively over interesting values:
    /// parse either succeeds or throws `malformed`, never anything else.
    @Test func optionParserIsTotal() {
        let values: [UInt8] = [0, 1, 2, 3, 4, 5, 8, 10, 0xFF]
        var count = 0
        for a in values {
            for b in values {
                for c in values {
                    for d in values {
                        let kind = [a, b, c, d].withUnsafeBytes { bytes in
                            errorKind { () throws(WireError) in _ = try TCPOptions(parsing: bytes) }
                        }
                        #expect(kind == nil || kind == .malformed)
                        count += 1
                    }
                }
            }
        }
        #expect(count == 6561)
    }
}
