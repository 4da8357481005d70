// The structs of Benchmarks/Thrift/codec.thrift, written by hand in the shape
// the code generator emits: an owned value type per struct, and a view type
// whose strings and containers stay in the input (zero copy).
import ApusThrift

public struct Small: Sendable, Hashable {
    public var id: Int32
    public var name: String

    public init(id: Int32 = 0, name: String = "") {
        self.id = id
        self.name = name
    }
}

extension Small: ThriftCodable, ThriftElement {
    @inlinable
    public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
        let token = writer.writeStructBegin()
        try writer.writeFieldBegin(.i32, id: 1)
        try writer.writeI32(id)
        try writer.writeFieldBegin(.string, id: 2)
        try writer.writeString(name)
        try writer.writeFieldStop()
        writer.writeStructEnd(token)
    }

    @inlinable
    public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
        self.init()
        let token = try reader.readStructBegin()
        while true {
            let field = try reader.readFieldBegin()
            switch (field.id, field.type) {
            case (_, .stop):
                reader.readStructEnd(token)
                return
            case (1, .i32): id = try reader.readI32()
            case (2, .string): name = try reader.readString()
            default: try reader.skip(field.type)
            }
        }
    }
}

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

public struct Inner: Sendable, Hashable {
    public var a: Int64
    public var b: String
    public var c: Double

    public init(a: Int64 = 0, b: String = "", c: Double = 0) {
        self.a = a
        self.b = b
        self.c = c
    }
}

extension Inner: ThriftCodable, ThriftElement {
    @inlinable
    public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
        let token = writer.writeStructBegin()
        try writer.writeFieldBegin(.i64, id: 1)
        try writer.writeI64(a)
        try writer.writeFieldBegin(.string, id: 2)
        try writer.writeString(b)
        try writer.writeFieldBegin(.double, id: 3)
        try writer.writeDouble(c)
        try writer.writeFieldStop()
        writer.writeStructEnd(token)
    }

    @inlinable
    public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
        self.init()
        let token = try reader.readStructBegin()
        while true {
            let field = try reader.readFieldBegin()
            switch (field.id, field.type) {
            case (_, .stop):
                reader.readStructEnd(token)
                return
            case (1, .i64): a = try reader.readI64()
            case (2, .string): b = try reader.readString()
            case (3, .double): c = try reader.readDouble()
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

public struct Large: Sendable, Hashable {
    public var id: Int32
    public var title: String
    public var values: [Int64]
    public var attrs: [String: String]
    public var inner: Inner
    public var flag: Bool
    public var timestamp: Int64

    public init(id: Int32 = 0, title: String = "", values: [Int64] = [], attrs: [String: String] = [:],
                inner: Inner = Inner(), flag: Bool = false, timestamp: Int64 = 0) {
        self.id = id
        self.title = title
        self.values = values
        self.attrs = attrs
        self.inner = inner
        self.flag = flag
        self.timestamp = timestamp
    }
}

extension Large: ThriftCodable, ThriftElement {
    @inlinable
    public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
        let token = writer.writeStructBegin()
        try writer.writeFieldBegin(.i32, id: 1)
        try writer.writeI32(id)
        try writer.writeFieldBegin(.string, id: 2)
        try writer.writeString(title)
        try writer.writeFieldBegin(.list, id: 3)
        try writer.writeList(values)
        try writer.writeFieldBegin(.map, id: 4)
        try writer.writeMap(attrs)
        try writer.writeFieldBegin(.struct, id: 5)
        try inner.encode(to: &writer)
        try writer.writeFieldBegin(.bool, id: 6)
        try writer.writeBool(flag)
        try writer.writeFieldBegin(.i64, id: 7)
        try writer.writeI64(timestamp)
        try writer.writeFieldStop()
        writer.writeStructEnd(token)
    }

    @inlinable
    public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
        self.init()
        let token = try reader.readStructBegin()
        while true {
            let field = try reader.readFieldBegin()
            switch (field.id, field.type) {
            case (_, .stop):
                reader.readStructEnd(token)
                return
            case (1, .i32): id = try reader.readI32()
            case (2, .string): title = try reader.readString()
            case (3, .list): values = try reader.readList(of: Int64.self)
            case (4, .map): attrs = try reader.readMap(of: String.self, String.self)
            case (5, .struct): inner = try Inner(from: &reader)
            case (6, .bool): flag = try reader.readBool()
            case (7, .i64): timestamp = try reader.readI64()
            default: try reader.skip(field.type)
            }
        }
    }
}

/// `Large` with strings, the list and the map left in the input.
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
