import ApusThrift
import Testing

/// Byte-level checks against apache/thrift doc/specs/thrift-binary-protocol.md.
@Suite struct BinaryProtocolTests {
    @Test func strictMessageHeader() throws {
        var writer = BinaryWriter(GrowableOutput())
        try writer.writeMessageBegin(name: "ping", type: .call, sequenceID: 7)
        #expect(writer.output.bytes == hex("80010001 00000004 70696e67 00000007"))
    }

    @Test func oldMessageHeaderIsRead() throws {
        // name length, name, type byte, seqid; then an empty struct.
        let bytes = hex("00000004 70696e67 01 00000009 00")
        let (json, length) = try dumpMessage(bytes, .binary)
        #expect(json == #"{"name":"ping","type":"call","seqid":9,"body":{}}"#)
        #expect(length == bytes.count)
    }

    @Test func scalarsAreBigEndian() throws {
        let value = ThriftValue.struct([
            ThriftField(id: 1, value: .bool(true)),
            ThriftField(id: 2, value: .i8(-1)),
            ThriftField(id: 3, value: .i16(0x0102)),
            ThriftField(id: 4, value: .i32(0x0102_0304)),
            ThriftField(id: 5, value: .i64(-2)),
            ThriftField(id: 6, value: .double(1.0)),
            ThriftField(id: 7, value: .string("hi")),
            ThriftField(id: 8, value: .uuid(ThriftUUID(high: 1, low: 2))),
        ])
        let expected = hex("""
            02 0001 01   03 0002 ff   06 0003 0102   08 0004 01020304
            0a 0005 fffffffffffffffe   04 0006 3ff0000000000000
            0b 0007 00000002 6869   10 0008 0000000000000001 0000000000000002   00
            """)
        #expect(try encodeValue(value, .binary) == expected)
        #expect(try decodeValue(.struct, expected, .binary) == value)
    }

    @Test func containers() throws {
        let list = ThriftValue.list(.i16, [.i16(1), .i16(2)])
        #expect(try encodeValue(list, .binary) == hex("06 00000002 0001 0002"))
        let map = ThriftValue.map(key: .string, value: .bool, [ThriftMapEntry(key: .string("a"), value: .bool(false))])
        #expect(try encodeValue(map, .binary) == hex("0b 02 00000001 00000001 61 00"))
        #expect(try decodeValue(.map, hex("0b 02 00000000"), .binary) == .map(key: .string, value: .bool, []))
    }

    @Test func boolReadsAnyNonZeroAsTrue() throws {
        #expect(try decodeValue(.bool, [0x02], .binary) == .bool(true))
    }

    @Test func sizePassMatchesTheBytesWritten() throws {
        var rng = ValueGenerator(rng: SeededGenerator(seed: 99))
        for _ in 0..<200 {
            let value = rng.value(.struct, depth: 3)
            for protocolID in ThriftProtocolID.allCases {
                #expect(try Thrift.size(of: value, protocol: protocolID) == encodeValue(value, protocolID).count)
            }
        }
    }

    /// Strings are copied from their storage in place (small and native, ASCII or not, a
    /// substring): every output writes the bytes `String.utf8` holds, and the size pass agrees.
    @Test func everyOutputWritesTextAsItsUTF8() throws {
        let long = String(repeating: "héllo wörld ", count: 9)
        let texts: [Substring] = ["", "key-0", "ünï", Substring(long), long.dropFirst(3).prefix(40), "value-0-vvvvvvvvvvvvvvvv"]
        for text in texts {
            let expected = withUnsafeBytes(of: UInt32(text.utf8.count).bigEndian, Array.init) + Array(text.utf8)
            var growable = BinaryWriter(GrowableOutput())
            try growable.writeString(String(text))
            #expect(growable.output.bytes == expected)
            var memory = [UInt8](repeating: 0, count: expected.count)
            let written = try memory.withUnsafeMutableBytes { buffer throws(ThriftError) in
                var output = FixedOutput(buffer)
                try output.writeBigEndian(UInt32(text.utf8.count))
                try output.writeUTF8(text)
                return output.count
            }
            #expect(written == expected.count && memory == expected)
            var sizer = BinarySizer()
            try sizer.writeString(String(text))
            #expect(sizer.count == expected.count)
        }
    }

    @Test func fixedOutputRefusesToOverrun() throws {
        let value = ThriftValue.struct([ThriftField(id: 1, value: .string(String(repeating: "x", count: 100)))])
        for protocolID in ThriftProtocolID.allCases {
            let size = try Thrift.size(of: value, protocol: protocolID)
            var memory = [UInt8](repeating: 0xAA, count: size + 8)
            let full = memory.withUnsafeMutableBytes { buffer in
                thriftError { () throws(ThriftError) in
                    _ = try Thrift.encode(value, protocol: protocolID, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<(size - 1)]))
                }
            }
            #expect(full?.kind == .outputFull)
            #expect(memory[(size - 1)...].allSatisfy { $0 == 0xAA }, "nothing written past the buffer")
            let written = try memory.withUnsafeMutableBytes { buffer throws(ThriftError) in
                try Thrift.encode(value, protocol: protocolID, into: buffer)
            }
            #expect(written == size)
        }
    }
}
