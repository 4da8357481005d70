import ApusWire
import Testing

@Suite struct TCPOptionsTests {
    func parse(_ bytes: [UInt8]) throws(WireError) -> TCPOptions {
        let result = bytes.withUnsafeBytes { buffer in Result { () throws(WireError) in try TCPOptions(parsing: buffer) } }
        return try result.get()
    }

    func kind(_ bytes: [UInt8]) -> WireError.Kind? {
        errorKind { () throws(WireError) in _ = try parse(bytes) }
    }

    func emitted(_ options: TCPOptions) throws -> [UInt8] {
        let repr = TCPRepr(sourcePort: 0, destinationPort: 0, sequenceNumber: SequenceNumber(0), flags: .syn,
                           windowSize: 0, options: options)
        let bytes = try emitting(count: repr.headerLength) { b throws(WireError) in try repr.emit(into: b, checksum: .zero) }
        return Array(bytes[20...])
    }

    /// Unknown kinds (TFO cookie 34, MD5 19, experimental 254) are stepped over by their length.
    @Test func unknownOptionsAreSkipped() throws {
        let options = try parse([
            0x22, 0x06, 0xAA, 0xBB, 0xCC, 0xDD,  // TFO cookie
            0x02, 0x04, 0x05, 0xb4,              // MSS 1460
            0xFE, 0x02,                          // experimental, no data
            0x13, 0x04, 0x00, 0x00,              // truncated-looking MD5, but self-consistent
            0x03, 0x03, 0x07,                    // WS 7
            0x00,                                // EOL
        ])
        #expect(options == TCPOptions(maximumSegmentSize: 1460, windowScale: 7))
    }

    /// EOL ends the list; whatever follows is padding, even bytes that would not parse.
    @Test func endOfListStopsParsing() throws {
        #expect(try parse([0x02, 0x04, 0x02, 0x18, 0x00, 0x02, 0x00, 0xFF]) == TCPOptions(maximumSegmentSize: 536))
        #expect(try parse([0x00, 0x05]) == TCPOptions())
    }

    @Test func onlyNoOperationsIsEmpty() throws {
        #expect(try parse([0x01, 0x01, 0x01, 0x01]) == TCPOptions())
        #expect(try parse([]) == TCPOptions())
    }

    /// RFC 9293 §3.1: an illegal length must not crash; it is `malformed`.
    @Test(arguments: [
        [0x02],                          // kind without a length byte
        [0x01, 0x01, 0x01, 0xFE],        // same, after NOPs
        [0xFE, 0x00, 0x01, 0x01],        // length 0 (would loop forever if trusted)
        [0xFE, 0x01, 0x01, 0x01],        // length 1 (shorter than kind + length)
        [0xFE, 0x05, 0x00, 0x00],        // runs past the header
        [0x08, 0x0a, 0, 0, 0, 0, 0, 0],  // timestamps cut short
    ] as [[UInt8]])
    func illegalLengthsAreMalformed(_ bytes: [UInt8]) {
        #expect(kind(bytes) == .malformed)
    }

    /// Known options must have their defined length, or their values would be read from
    /// whatever follows.
    @Test(arguments: [
        [0x02, 0x03, 0x05, 0x00],
        [0x02, 0x05, 0x05, 0xb4, 0x00],
        [0x03, 0x04, 0x07, 0x00],
        [0x03, 0x02, 0x01, 0x01],
        [0x04, 0x03, 0x00, 0x00],
        [0x08, 0x08, 0, 0, 0, 0, 0, 0],
        [0x05, 0x02, 0x00, 0x00],
        [0x05, 0x09, 0, 0, 0, 0, 0, 0, 0],
        [0x05, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ] as [[UInt8]])
    func knownOptionsWithWrongLengthsAreMalformed(_ bytes: [UInt8]) {
        #expect(kind(bytes) == .malformed)
    }

    /// RFC 7323 §2.3: a shift above 14 is used as 14.
    @Test func windowScaleIsClampedTo14() throws {
        #expect(try parse([0x03, 0x03, 0x0E, 0x01]).windowScale == 14)
        #expect(try parse([0x03, 0x03, 0x0F, 0x01]).windowScale == 14)
        #expect(try parse([0x03, 0x03, 0xFF, 0x01]).windowScale == 14)
        #expect(try parse([0x03, 0x03, 0x00, 0x01]).windowScale == 0)
    }

    @Test func fourSACKBlocksFillTheOptionSpace() throws {
        var bytes: [UInt8] = [0x01, 0x01, 0x05, 0x22]
        for value in 1...8 { bytes += [0, 0, 0, UInt8(value)] }
        let options = try parse(bytes)
        #expect(options.sackBlocks.count == 4)
        #expect(options.sackBlocks.last == SACKBlock(left: SequenceNumber(7), right: SequenceNumber(8)))
        #expect(try emitted(options) == bytes)
    }

    @Test func laterOccurrenceWins() throws {
        #expect(try parse([0x02, 0x04, 0x05, 0xb4, 0x02, 0x04, 0x02, 0x18]).maximumSegmentSize == 536)
    }

    /// Linux's layout for a SYN without timestamps: MSS, NOP NOP SACK-permitted, NOP WS.
    @Test func emitLayoutWithoutTimestamps() throws {
        let options = TCPOptions(maximumSegmentSize: 1460, windowScale: 7, sackPermitted: true)
        #expect(options.encodedLength == 12)
        #expect(try emitted(options) == [0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x07])
    }

    /// Linux's layout for timestamps without SACK-permitted: NOP NOP TS.
    @Test func emitLayoutTimestampsOnly() throws {
        let options = TCPOptions(timestamps: TCPTimestamps(value: 0x01020304, echoReply: 0x0a0b0c0d))
        #expect(try emitted(options) == [0x01, 0x01, 0x08, 0x0a, 1, 2, 3, 4, 10, 11, 12, 13])
        #expect(try emitted(TCPOptions()) == [])
    }

    @Test func emittedOptionsParseBack() throws {
        var generator = SeededGenerator(seed: 2018)
        for _ in 0..<200 {
            let blockCount = Int.random(in: 0...2, using: &generator)
            let blocks = (0..<blockCount).map { _ in
                SACKBlock(left: SequenceNumber(UInt32.random(in: 0...UInt32.max, using: &generator)),
                          right: SequenceNumber(UInt32.random(in: 0...UInt32.max, using: &generator)))
            }
            let options = TCPOptions(
                maximumSegmentSize: Bool.random(using: &generator) ? UInt16.random(in: 0...UInt16.max, using: &generator) : nil,
                windowScale: Bool.random(using: &generator) ? UInt8.random(in: 0...14, using: &generator) : nil,
                sackPermitted: Bool.random(using: &generator),
                timestamps: Bool.random(using: &generator) ? TCPTimestamps(value: .random(in: 0...UInt32.max, using: &generator), echoReply: 7) : nil,
                sackBlocks: SACKBlocks(blocks))
            #expect(options.encodedLength % 4 == 0)
            #expect(try parse(emitted(options)) == options)
        }
    }

    @Test func sackBlocksHoldAtMostFour() {
        var blocks = SACKBlocks()
        for value in 0..<4 {
            let added = blocks.append(SACKBlock(left: SequenceNumber(UInt32(value)), right: SequenceNumber(UInt32(value) + 1)))
            #expect(added)
        }
        let fifth = blocks.append(SACKBlock(left: SequenceNumber(9), right: SequenceNumber(10)))
        #expect(!fifth)
        #expect(blocks.count == SACKBlocks.capacity)
        #expect(blocks.map(\.left.rawValue) == [0, 1, 2, 3])
        #expect(SACKBlocks(Array(repeating: blocks[0], count: 6)).count == 4)
        #expect(blocks != SACKBlocks(blocks.prefix(3)))
    }
}
