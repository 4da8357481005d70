import ApusThrift
import Testing

/// `readList`/`readMap` and the zero-copy `ListView`/`MapView` agree with the value tree.
@Suite struct ContainerViewTests {
    let list = ThriftValue.list(.i64, (0..<40).map { .i64(Int64($0) * -1_000_003) })
    let map = ThriftValue.map(key: .string, value: .string, (0..<20).map {
        ThriftMapEntry(key: .string("key-\($0)"), value: .string("välue-\($0)"))
    })

    @Test(arguments: ThriftProtocolID.allCases)
    func viewsIterateWhatWasWritten(_ protocolID: ThriftProtocolID) throws {
        let bytes = try encodeValue(.struct([ThriftField(id: 1, value: list), ThriftField(id: 2, value: map)]), protocolID)
        try withBytes(bytes) { (buffer) throws(ThriftError) in
            func check<R: ThriftProtocolReader>(_ reader: inout R) throws(ThriftError) {
                let token = try reader.readStructBegin()
                _ = try reader.readFieldBegin()
                let values = try ListView<Int64>(from: &reader)
                _ = try reader.readFieldBegin()
                let entries = try MapView<BytesView, BytesView>(from: &reader)
                #expect(try reader.readFieldBegin().type == .stop)
                reader.readStructEnd(token)
                #expect(reader.offset == buffer.count)
                #expect(values.count == 40)
                #expect(Array(values) == (0..<40).map { Int64($0) * -1_000_003 })
                #expect(entries.count == 20)
                #expect(entries.map { "\($0.key.string)=\($0.value.string)" } == (0..<20).map { "key-\($0)=välue-\($0)" })
            }
            switch protocolID {
            case .binary: var reader = BinaryReader(buffer); try check(&reader)
            case .compact: var reader = CompactReader(buffer); try check(&reader)
            }
        }
    }

    @Test(arguments: ThriftProtocolID.allCases)
    func readListAndMapIntoOwnedValues(_ protocolID: ThriftProtocolID) throws {
        let listBytes = try encodeValue(list, protocolID)
        let values = try withBytes(listBytes) { (buffer) throws(ThriftError) -> [Int64] in
            switch protocolID {
            case .binary: var r = BinaryReader(buffer); return try r.readList(of: Int64.self)
            case .compact: var r = CompactReader(buffer); return try r.readList(of: Int64.self)
            }
        }
        #expect(values == (0..<40).map { Int64($0) * -1_000_003 })
        let mapBytes = try encodeValue(map, protocolID)
        let dictionary = try withBytes(mapBytes) { (buffer) throws(ThriftError) -> [String: String] in
            switch protocolID {
            case .binary: var r = BinaryReader(buffer); return try r.readMap(of: String.self, String.self)
            case .compact: var r = CompactReader(buffer); return try r.readMap(of: String.self, String.self)
            }
        }
        #expect(dictionary.count == 20 && dictionary["key-7"] == "välue-7")
        // Writing them back gives the same bytes (the list) or the same entries (the map).
        var writer = BinaryWriter(GrowableOutput())
        try writer.writeList(values)
        if protocolID == .binary { #expect(writer.output.bytes == listBytes) }
    }

    @Test(arguments: ThriftProtocolID.allCases)
    func elementTypeMismatchIsAnError(_ protocolID: ThriftProtocolID) throws {
        let bytes = try encodeValue(list, protocolID)
        let error = thriftError { () throws(ThriftError) in
            try withBytes(bytes) { (buffer) throws(ThriftError) in
                switch protocolID {
                case .binary: var r = BinaryReader(buffer); _ = try ListView<BytesView>(from: &r)
                case .compact: var r = CompactReader(buffer); _ = try r.readList(of: Int32.self)
                }
            }
        }
        #expect(error?.kind == .invalidType)
    }
}
