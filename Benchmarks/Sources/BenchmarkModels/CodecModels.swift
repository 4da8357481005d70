// The owned structs of Benchmarks/Thrift/codec.thrift (Small, Inner, Large) are
// generated at build time by ApusGenPlugin from codec.thrift in this target, so
// the benchmark measures generated code. The view types below, whose strings
// and containers stay in the input (zero copy), are written by hand: the
// generator does not emit views yet.
import ApusThrift

/// `Small` with its string left in the input.
public struct SmallView: ThriftDecodable {
    public var id: Int32 = 0
    public var name: BytesView = .empty

    @inlinable
    public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
        let token = try reader.readStructBegin()
        while true {
            let field = try reader.readFieldBegin()
            switch (field.id, field.type) {
            case (_, .stop):
                reader.readStructEnd(token)
                return
            case (1, .i32): id = try reader.readI32()
            case (2, .string): name = try reader.readBinary()
            default: try reader.skip(field.type)
            }
        }
    }
}

public struct InnerView: ThriftDecodable {
    public var a: Int64 = 0
    public var b: BytesView = .empty
    public var c: Double = 0

    @inlinable public init() {}

    @inlinable
    public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
        let token = try reader.readStructBegin()
        while true {
            let field = try reader.readFieldBegin()
            switch (field.id, field.type) {
            case (_, .stop):
                reader.readStructEnd(token)
                return
            case (1, .i64): a = try reader.readI64()
            case (2, .string): b = try reader.readBinary()
            case (3, .double): c = try reader.readDouble()
            default: try reader.skip(field.type)
            }
        }
    }
}

public struct LargeView: ThriftDecodable {
    public var id: Int32 = 0
    public var title: BytesView = .empty
    public var values: ListView<Int64>?
    public var attrs: MapView<BytesView, BytesView>?
    public var inner = InnerView()
    public var flag = false
    public var timestamp: Int64 = 0

    @inlinable
    public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
        let token = try reader.readStructBegin()
        while true {
            let field = try reader.readFieldBegin()
            switch (field.id, field.type) {
            case (_, .stop):
                reader.readStructEnd(token)
                return
            case (1, .i32): id = try reader.readI32()
            case (2, .string): title = try reader.readBinary()
            case (3, .list): values = try ListView(from: &reader)
            case (4, .map): attrs = try MapView(from: &reader)
            case (5, .struct): inner = try InnerView(from: &reader)
            case (6, .bool): flag = try reader.readBool()
            case (7, .i64): timestamp = try reader.readI64()
            default: try reader.skip(field.type)
            }
        }
    }
}

/// The values Benchmarks/Thrift/codec.thrift prescribes (the C++ side uses the same).
public enum CodecFixtures {
    public static let small = Small(id: 42, name: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_")

    public static let large = Large(
        id: 7,
        title: "The quick brown fox jumps over the lazy dog",
        values: (0..<64).map { Int64($0) * 1_000_003 - 500 },
        attrs: Dictionary(uniqueKeysWithValues: (0..<8).map { ("key-\($0)", "value-\($0)-" + String(repeating: "v", count: 16)) }),
        inner: Inner(a: 1_234_567_890_123, b: "nested structure", c: 3.141592653589793),
        flag: true,
        timestamp: 1_700_000_000_000
    )
}
