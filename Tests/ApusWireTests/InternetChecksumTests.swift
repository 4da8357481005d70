import ApusWire
import Testing

@Suite struct InternetChecksumTests {
    /// The textbook sum: 16-bit big-endian words, zero-padded, folded after every add.
    static func reference(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index < bytes.count {
            let high = UInt32(bytes[index]) << 8
            let low = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            sum += high | low
            sum = (sum & 0xFFFF) + (sum >> 16)
            index += 2
        }
        return ~UInt16(sum)
    }

    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        bytes.withUnsafeBytes { InternetChecksum.checksum($0) }
    }

    /// RFC 1071 §3: 0001 f203 f4f5 f6f7 sums to ddf2.
    @Test func rfc1071Example() {
        let bytes: [UInt8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]
        var accumulator = InternetChecksum()
        bytes.withUnsafeBytes { accumulator.add($0) }
        #expect(accumulator.foldedSum == 0xDDF2)
        #expect(accumulator.checksum == 0x220D)
    }

    @Test func oddTrailingByteIsTheHighHalfOfAWord() {
        #expect(Self.checksum([0xAB]) == ~UInt16(0xAB00))
        #expect(Self.checksum([0x01, 0x02, 0x03]) == ~UInt16(0x0102 + 0x0300))
    }

    @Test func emptyDataSumsToZero() {
        #expect(Self.checksum([]) == 0xFFFF)
        #expect(!InternetChecksum().isValid)
    }

    /// The wide (8 bytes at a time, end-around carry) loop against the textbook, for every
    /// length up to 300 and data designed to carry a lot (runs of 0xFF).
    @Test func wideSumMatchesReference() {
        var generator = SeededGenerator(seed: 1071)
        for length in 0...300 {
            let random = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let ones = [UInt8](repeating: 0xFF, count: length)
            let mostlyOnes = random.map { $0 | 0xF0 }
            for bytes in [random, ones, mostlyOnes] {
                #expect(Self.checksum(bytes) == Self.reference(bytes), "length \(length)")
            }
        }
    }

    /// Splitting the data anywhere, at odd offsets too, gives the same sum (RFC 1071 §2(B)).
    @Test func chunkedAddMatchesOneShot() {
        var generator = SeededGenerator(seed: 7)
        let bytes = (0..<77).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let expected = Self.reference(bytes)
        bytes.withUnsafeBytes { buffer in
            for first in 0...bytes.count {
                for second in stride(from: first, through: bytes.count, by: 5) {
                    var accumulator = InternetChecksum()
                    accumulator.add(UnsafeRawBufferPointer(rebasing: buffer[..<first]))
                    accumulator.add(UnsafeRawBufferPointer(rebasing: buffer[first..<second]))
                    accumulator.add(UnsafeRawBufferPointer(rebasing: buffer[second...]))
                    #expect(accumulator.checksum == expected, "split at \(first), \(second)")
                }
            }
        }
    }

    /// Copying while summing copies exactly and sums like `add`, for every length up to 300 and
    /// after an odd or even number of bytes already added (a ring's second piece).
    @Test func copyingSumMatchesAddAndCopiesExactly() {
        var generator = SeededGenerator(seed: 2018)
        for length in 0...300 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            for prefix in [[UInt8](), [0x5A], [0x12, 0x34, 0x56]] {
                var copy = [UInt8](repeating: 0xEE, count: length + 1)
                var copying = InternetChecksum()
                prefix.withUnsafeBytes { copying.add($0) }
                bytes.withUnsafeBytes { source in copy.withUnsafeMutableBytes { copying.add(copying: source, into: $0) } }
                #expect(Array(copy[..<length]) == bytes && copy[length] == 0xEE, "length \(length)")
                #expect(copying.checksum == Self.reference(prefix + bytes), "length \(length), prefix \(prefix.count)")
            }
        }
    }

    /// A sum taken apart (while copying a payload) joins the header's like one taken in place.
    @Test func separatelyTakenSumsJoin() {
        var generator = SeededGenerator(seed: 6675)
        for (headerLength, payloadLength) in [(20, 0), (20, 1), (32, 1448), (40, 777), (8, 65)] {
            let bytes = (0..<(headerLength + payloadLength)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var header = InternetChecksum(), payload = InternetChecksum()
            bytes.withUnsafeBytes { buffer in
                header.add(UnsafeRawBufferPointer(rebasing: buffer[..<headerLength]))
                payload.add(UnsafeRawBufferPointer(rebasing: buffer[headerLength...]))
            }
            header.add(payload)
            #expect(header.checksum == Self.reference(bytes), "\(headerLength) + \(payloadLength)")
        }
    }

    @Test func wordsAddLikeTheirBytes() {
        var words = InternetChecksum()
        words.add(UInt32(0x0A0A_0001))
        words.add(UInt16(0x0011))
        #expect(words.checksum == Self.reference([0x0a, 0x0a, 0x00, 0x01, 0x00, 0x11]))
    }

    /// The UDP pseudo-header of the fixture, summed by `addPseudoHeader`, equals the bytes of
    /// RFC 768's layout summed directly.
    @Test func pseudoHeaderMatchesItsLayout() {
        var accumulator = InternetChecksum()
        accumulator.addPseudoHeader(source: IPv4Address(10, 10, 0, 1), destination: IPv4Address(10, 10, 0, 10),
                                    protocol: .udp, length: 19)
        #expect(accumulator.checksum
            == Self.reference([0x0a, 0x0a, 0x00, 0x01, 0x0a, 0x0a, 0x00, 0x0a, 0x00, 0x11, 0x00, 0x13]))
    }

    @Test func dataIncludingItsChecksumVerifies() {
        Fixtures.synFrame.withUnsafeBytes { frame in
            var header = InternetChecksum()
            header.add(UnsafeRawBufferPointer(rebasing: frame[14..<34]))
            #expect(header.isValid)
        }
    }

    /// RFC 1624 §4's example: eqn. 3 gives 0x0000 where the older eqn. 2 gave 0xFFFF.
    @Test func incrementalUpdateRFC1624Example() {
        #expect(InternetChecksum.update(0xDD2F, replacing: UInt16(0x5555), with: UInt16(0x3285)) == 0x0000)
    }

    /// Changing one word and updating incrementally agrees with recomputing from scratch.
    @Test func incrementalUpdateMatchesRecompute() {
        var generator = SeededGenerator(seed: 1624)
        for _ in 0..<500 {
            var bytes = (0..<40).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let before = Self.checksum(bytes)
            let index = Int.random(in: 0..<20, using: &generator) * 2
            let old = UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])
            let new = UInt16.random(in: 0...UInt16.max, using: &generator)
            bytes[index] = UInt8(new >> 8)
            bytes[index + 1] = UInt8(new & 0xFF)
            let updated = InternetChecksum.update(before, replacing: old, with: new)
            // 0x0000 and 0xFFFF are the same one's complement number; both verify.
            let recomputed = Self.checksum(bytes)
            #expect(updated == recomputed || (updated | recomputed == 0xFFFF && updated & recomputed == 0))
        }
    }

    /// Rewriting an IPv4 source address in place: the 32-bit update equals a fresh checksum.
    @Test func incrementalAddressUpdate() throws {
        var header = Array(Fixtures.udpFrame[14..<34])
        let checksum = UInt16(header[10]) << 8 | UInt16(header[11])
        let new = IPv4Address(192, 168, 7, 99)
        header.replaceSubrange(12..<16, with: [192, 168, 7, 99])
        let updated = InternetChecksum.update(checksum, replacing: IPv4Address(10, 10, 0, 1).rawValue,
                                              with: new.rawValue)
        header[10] = 0
        header[11] = 0
        #expect(updated == Self.checksum(header))
    }
}
