import ApusThrift
import Testing

/// Byte-level checks against apache/thrift doc/specs/thrift-compact-protocol.md,
/// written by hand from the spec.
@Suite struct CompactProtocolTests {
    func encode(_ body: (inout CompactWriter<GrowableOutput>) throws(ThriftError) -> Void) throws -> [UInt8] {
        var writer = CompactWriter(GrowableOutput())
        try body(&writer)
        return writer.output.bytes
    }

    @Test(arguments: [
        (Int32(0), "00"), (-1, "01"), (1, "02"), (-2, "03"), (2, "04"), (63, "7e"), (-64, "7f"), (64, "8001"),
        (Int32.max, "feffffff0f"), (Int32.min, "ffffffff0f"),
    ])
    func zigzagI32(value: Int32, expected: String) throws {
        #expect(try encode { w throws(ThriftError) in try w.writeI32(value) } == hex(expected))
        let decoded = try decodeValue(.i32, hex(expected), .compact)
        #expect(decoded == .i32(value))
    }

    @Test func zigzagI64Extremes() throws {
        #expect(try encode { w throws(ThriftError) in try w.writeI64(.max) } == hex("feffffffffffffffff01"))
        #expect(try encode { w throws(ThriftError) in try w.writeI64(.min) } == hex("ffffffffffffffffff01"))
        #expect(try decodeValue(.i64, hex("ffffffffffffffffff01"), .compact) == .i64(.min))
    }

    @Test func doubleIsLittleEndian() throws {
        #expect(try encode { w throws(ThriftError) in try w.writeDouble(1.0) } == hex("000000000000f03f"))
        let negativeZero = try decodeValue(.double, hex("0000000000000080"), .compact)
        guard case .double(let value) = negativeZero else { Issue.record("not a double"); return }
        #expect(value == 0 && value.sign == .minus, "-0.0 keeps its sign")
    }

    @Test func fieldHeadersUseDeltasThenLongForm() throws {
        let bytes = try encode { w throws(ThriftError) in
            let token = w.writeStructBegin()
            try w.writeFieldBegin(.i32, id: 1); try w.writeI32(1)      // delta 1: 0x15
            try w.writeFieldBegin(.i32, id: 16); try w.writeI32(1)     // delta 15: 0xf5
            try w.writeFieldBegin(.i32, id: 40); try w.writeI32(1)     // delta 24: long form 05 50
            try w.writeFieldBegin(.i32, id: 3); try w.writeI32(1)      // backwards: long form 05 06
            try w.writeFieldStop()
            w.writeStructEnd(token)
        }
        #expect(bytes == hex("15 02 f5 02 05 50 02 05 06 02 00"))
        let value = try decodeValue(.struct, bytes, .compact)
        #expect(value == .struct([1, 16, 40, 3].map { ThriftField(id: $0, value: .i32(1)) }))
    }

    @Test func boolFieldsCarryTheValueInTheTypeNibble() throws {
        let bytes = try encode { w throws(ThriftError) in
            let token = w.writeStructBegin()
            try w.writeFieldBegin(.bool, id: 1); try w.writeBool(true)
            try w.writeFieldBegin(.bool, id: 2); try w.writeBool(false)
            try w.writeFieldStop()
            w.writeStructEnd(token)
        }
        #expect(bytes == hex("11 12 00"))
        #expect(try decodeValue(.struct, bytes, .compact) == .struct([
            ThriftField(id: 1, value: .bool(true)), ThriftField(id: 2, value: .bool(false)),
        ]))
    }

    @Test func nestedStructsRestoreTheLastFieldID() throws {
        // field 5 struct { field 1 i8 }, then field 6 i8: delta from 5, not from 1.
        let bytes = hex("5c 13 07 00 13 09 00")
        #expect(try decodeValue(.struct, bytes, .compact) == .struct([
            ThriftField(id: 5, value: .struct([ThriftField(id: 1, value: .i8(7))])),
            ThriftField(id: 6, value: .i8(9)),
        ]))
        #expect(try encodeValue(decodeValue(.struct, bytes, .compact), .compact) == bytes)
    }

    @Test func listSizesShortAndLong() throws {
        let short = ThriftValue.list(.i32, (0..<14).map { _ in .i32(0) })
        #expect(try encodeValue(short, .compact).prefix(1) == [0xE5])
        let long = ThriftValue.list(.i32, (0..<15).map { _ in .i32(0) })
        #expect(try encodeValue(long, .compact).prefix(2) == [0xF5, 0x0F])
    }

    @Test func boolListElementsAcceptBothConventions() throws {
        // Element type 1 with values 1/2 (Apache's writers) and type 2 with 1/0.
        #expect(try decodeValue(.list, hex("31 01 02 01"), .compact) == .list(.bool, [.bool(true), .bool(false), .bool(true)]))
        #expect(try decodeValue(.list, hex("32 01 00 01"), .compact) == .list(.bool, [.bool(true), .bool(false), .bool(true)]))
        #expect(try encodeValue(.list(.bool, [.bool(true), .bool(false)]), .compact) == hex("21 01 02"))
        let error = thriftError { () throws(ThriftError) in _ = try decodeValue(.list, hex("11 07"), .compact) }
        #expect(error?.kind == .invalidValue)
    }

    @Test func emptyMapIsOneZeroByte() throws {
        #expect(try encodeValue(.map(key: .string, value: .i32, []), .compact) == [0x00])
        #expect(try decodeValue(.map, [0x00], .compact) == .map(key: .stop, value: .stop, []))
        #expect(try encodeValue(.map(key: .string, value: .i32, [ThriftMapEntry(key: .string("a"), value: .i32(1))]), .compact)
            == hex("01 85 01 61 02"))
    }

    @Test func messageHeader() throws {
        var writer = CompactWriter(GrowableOutput())
        try writer.writeMessageBegin(name: "ping", type: .call, sequenceID: 300)
        #expect(writer.output.bytes == hex("82 21 ac02 04 70696e67"))
        try writer.writeMessageBegin(name: "", type: .oneway, sequenceID: -1)
        #expect(writer.output.bytes.suffix(8) == hex("82 81 ffffffff0f 00"))
    }

    @Test func uuidIsSixteenBytesInOrder() throws {
        let uuid = ThriftUUID("00112233-4455-6677-8899-aabbccddeeff")!
        #expect(try encodeValue(.uuid(uuid), .compact) == hex("00112233445566778899aabbccddeeff"))
        #expect(uuid.description == "00112233-4455-6677-8899-aabbccddeeff")
        let bytes = hex("1d 00112233445566778899aabbccddeeff 00")
        #expect(try decodeValue(.struct, bytes, .compact) == .struct([ThriftField(id: 1, value: .uuid(uuid))]))
    }
    /// Skipping a list of i32 or i64 (eight bytes at a time where it can) agrees with reading
    /// its elements one by one: same error, same end, on lists with varints of every length,
    /// too long ones, and input cut anywhere.
    @Test func listSkipsAgreeWithReadingEachElement() {
        var rng = SeededGenerator(seed: 20261207)
        for round in 0..<3000 {
            let wide = round % 2 == 0
            let maximum = wide ? 10 : 5
            let count = Int(rng.next() % 40)
            var bytes: [UInt8] = []
            for _ in 0..<count {
                // Mostly valid lengths; now and then one byte too long.
                let length = rng.next() % 23 == 0 ? maximum + 1 : 1 + Int(rng.next() % UInt64(maximum))
                for index in 0..<length { bytes.append(index == length - 1 ? UInt8(rng.next() % 2) : 0x80 | UInt8(rng.next() % 128)) }
            }
            bytes += (0..<Int(rng.next() % 12)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if rng.next() % 5 == 0 { bytes.removeLast(Int(rng.next() % UInt64(bytes.count + 1))) }
            func outcome(skipping: Bool) -> (ThriftError.Kind?, Int?) {
                var end: Int?
                let error = thriftError { () throws(ThriftError) in
                    try withBytes(bytes) { buffer throws(ThriftError) in
                        var reader = CompactReader(buffer)
                        if skipping {
                            try reader.skipElements(wide ? .i64 : .i32, count: count)
                        } else {
                            for _ in 0..<count { if wide { _ = try reader.readI64() } else { _ = try reader.readI32() } }
                        }
                        end = reader.offset
                    }
                }
                return (error?.kind, end)
            }
            let (skipped, read) = (outcome(skipping: true), outcome(skipping: false))
            #expect(skipped.0 == read.0 && skipped.1 == read.1, "round \(round): \(hexString(bytes))")
        }
    }

    /// Lists of numbers written as one block (`writeList` into fixed memory: one check, a
    /// word per varint) give the spec's bytes: the header, then each element zigzag-encoded as a
    /// LEB128 varint (doubles 8 bytes little-endian, i8 one byte), computed here by hand. Values
    /// of every varint length; buffers of room to spare, exactly enough (the element-by-element
    /// path) and one byte short (an error, nothing past the buffer touched).
    @Test func listsOfNumbersAsOneBlockGiveTheSpecsBytes() throws {
        func varint(_ value: UInt64) -> [UInt8] {
            var value = value, bytes: [UInt8] = []
            while value >= 0x80 { bytes.append(UInt8(value & 0x7F) | 0x80); value >>= 7 }
            return bytes + [UInt8(value)]
        }
        func header(_ nibble: UInt8, _ count: Int) -> [UInt8] {
            count < 15 ? [UInt8(count) << 4 | nibble] : [0xF0 | nibble] + varint(UInt64(count))
        }
        // A value whose zigzag form has `bits` significant bits (0 to 64), of either sign.
        func value(bits: Int, negative: Bool, _ rng: inout SeededGenerator) -> Int64 {
            let zigzag: UInt64 = bits == 0 ? 0 : (1 << UInt64(bits - 1)) | (rng.next() & ((1 << UInt64(bits - 1)) - 1))
            let magnitude = Int64(bitPattern: zigzag >> 1)
            return negative ? ~magnitude : magnitude
        }
        func check<E: ThriftElement & Equatable>(_ list: [E], _ expected: [UInt8], _ label: String) throws {
            var sizer = CompactSizer()
            try sizer.writeList(list)
            #expect(sizer.count == expected.count, "\(label): size pass")
            for room in [expected.count + 64, expected.count, expected.count - 1] {
                var buffer = [UInt8](repeating: 0xEE, count: room + 16)
                let outcome: Result<Int, ThriftError> = buffer.withUnsafeMutableBytes { memory in
                    var writer = CompactWriter(FixedOutput(UnsafeMutableRawBufferPointer(rebasing: memory[..<room])))
                    do throws(ThriftError) { try writer.writeList(list); return .success(writer.count) } catch { return .failure(error) }
                }
                #expect(buffer[room...].allSatisfy { $0 == 0xEE }, "\(label): wrote past a \(room)-byte buffer")
                switch outcome {
                case .success(let count):
                    #expect(room >= expected.count && Array(buffer[..<count]) == expected, "\(label), room \(room)")
                    let decoded = try withBytes(Array(buffer[..<count])) { input throws(ThriftError) in
                        var reader = CompactReader(input)
                        return try reader.readList(of: E.self)
                    }
                    #expect(decoded == list, "\(label): round trip")
                case .failure(let error):
                    #expect(room < expected.count && error.kind == .outputFull, "\(label), room \(room): \(error)")
                }
            }
        }
        var rng = SeededGenerator(seed: 20261208)
        for round in 0..<200 {
            let count = round < 20 ? round : Int(rng.next() % 300)
            // Every fourth round, values at their widest (so that the buffer of exactly enough room
            // can hold every value at its widest: the block path with no room to spare).
            let widest = round % 4 == 3
            let wide = (0..<count).map { _ in value(bits: widest ? 64 : Int(rng.next() % 65), negative: rng.next() % 2 == 0, &rng) }
            let longs = wide
            try check(longs, header(6, count) + longs.flatMap { varint(UInt64(bitPattern: ($0 << 1) ^ ($0 >> 63))) }, "i64 round \(round)")
            let ints = wide.map { Int32(truncatingIfNeeded: $0 >> (widest ? 32 : Int64(rng.next() % 33))) }
            try check(ints, header(5, count) + ints.flatMap { varint(UInt64(UInt32(bitPattern: ($0 << 1) ^ ($0 >> 31)))) }, "i32 round \(round)")
            let shorts = wide.map { Int16(truncatingIfNeeded: $0 >> (widest ? 48 : Int64(rng.next() % 49))) }
            try check(shorts, header(4, count) + shorts.flatMap { varint(UInt64(UInt16(bitPattern: ($0 << 1) ^ ($0 >> 15)))) }, "i16 round \(round)")
            let bytes = wide.map { Int8(truncatingIfNeeded: $0) }
            try check(bytes, header(3, count) + bytes.map { UInt8(bitPattern: $0) }, "i8 round \(round)")
            let reals = wide.map { Double(bitPattern: UInt64(bitPattern: $0)) }.filter { !$0.isNaN }
            try check(reals, header(7, reals.count) + reals.flatMap { real in (0..<8).map { UInt8(truncatingIfNeeded: real.bitPattern >> UInt64(8 * $0)) } }, "double round \(round)")
        }
    }
}
