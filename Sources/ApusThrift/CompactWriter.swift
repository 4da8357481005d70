/// Writes the Thrift compact protocol (apache/thrift doc/specs/thrift-compact-protocol.md).
///
/// Bool fields carry their value in the field header's type nibble, so
/// `writeFieldBegin(.bool, id:)` only remembers the id and the following
/// `writeBool` emits the header.
public struct CompactWriter<Output: ThriftOutput>: ThriftProtocolWriter {
    public static var protocolID: ThriftProtocolID { .compact }

    public var output: Output
    @usableFromInline var lastFieldID: Int16 = 0
    @usableFromInline var pendingBoolFieldID: Int16? = nil

    @inlinable
    public init(_ output: Output) { self.output = output }

    @inlinable public var count: Int { output.count }

    /// The compact type nibble of a wire type. Bool elements in containers
    /// use 1, as Apache's writers do; bool fields use 1/2 for true/false.
    @inlinable
    static func compactType(_ type: ThriftType) -> UInt8 {
        switch type.rawValue {
        case 2: 1       // bool
        case 3: 3       // i8
        case 4: 7       // double
        case 6: 4       // i16
        case 8: 5       // i32
        case 10: 6      // i64
        case 11: 8      // string, binary
        case 12: 12     // struct
        case 13: 11     // map
        case 14: 10     // set
        case 15: 9      // list
        case 16: 13     // uuid
        default: 0
        }
    }

    @inlinable
    public mutating func writeMessageBegin(name: UnsafeRawBufferPointer, type: MessageType, sequenceID: Int32) throws(ThriftError) {
        try output.writeByte(0x82)
        try output.writeByte(type.rawValue << 5 | 1)
        try output.writeVarint(UInt64(UInt32(bitPattern: sequenceID)))
        try writeBinary(name)
    }

    @inlinable
    public mutating func writeStructBegin() -> StructToken {
        defer { lastFieldID = 0 }
        return StructToken(lastFieldID: lastFieldID)
    }

    @inlinable public mutating func writeStructEnd(_ token: StructToken) { lastFieldID = token.lastFieldID }

    @inlinable @inline(__always)
    mutating func writeFieldHeader(_ nibble: UInt8, id: Int16) throws(ThriftError) {
        let delta = Int(id) - Int(lastFieldID)
        if delta > 0 && delta <= 15 {
            try output.writeByte(UInt8(delta) << 4 | nibble)
        } else {
            try output.writeByte(nibble)
            try output.writeVarint(UInt64(Zigzag.encode(id)))
        }
        lastFieldID = id
    }

    @inlinable @inline(__always)
    public mutating func writeFieldBegin(_ type: ThriftType, id: Int16) throws(ThriftError) {
        if type == .bool {
            pendingBoolFieldID = id
        } else {
            try writeFieldHeader(Self.compactType(type), id: id)
        }
    }

    @inlinable public mutating func writeFieldStop() throws(ThriftError) { try output.writeByte(0) }

    @inlinable @inline(__always)
    public mutating func writeListBegin(_ elementType: ThriftType, count: Int) throws(ThriftError) {
        let size = try SizeCheck.wire(count, .compact, offset: output.count, what: "list")
        let nibble = Self.compactType(elementType)
        if size < 15 {
            try output.writeByte(UInt8(size) << 4 | nibble)
        } else {
            try output.writeByte(0xF0 | nibble)
            try output.writeVarint(UInt64(size))
        }
    }

    @inlinable
    public mutating func writeSetBegin(_ elementType: ThriftType, count: Int) throws(ThriftError) {
        try writeListBegin(elementType, count: count)
    }

    /// An empty map is the single byte 0: no key or value types.
    @inlinable @inline(__always)
    public mutating func writeMapBegin(keyType: ThriftType, valueType: ThriftType, count: Int) throws(ThriftError) {
        let size = try SizeCheck.wire(count, .compact, offset: output.count, what: "map")
        try output.writeVarint(UInt64(size))
        if size > 0 {
            try output.writeByte(Self.compactType(keyType) << 4 | Self.compactType(valueType))
        }
    }

    @inlinable
    public mutating func writeBool(_ value: Bool) throws(ThriftError) {
        if let id = pendingBoolFieldID {
            pendingBoolFieldID = nil
            try writeFieldHeader(value ? 1 : 2, id: id)
        } else {
            try output.writeByte(value ? 1 : 2)
        }
    }

    @inlinable public mutating func writeI8(_ value: Int8) throws(ThriftError) { try output.writeByte(UInt8(bitPattern: value)) }
    @inlinable public mutating func writeI16(_ value: Int16) throws(ThriftError) { try output.writeVarint(Zigzag.encode(value)) }
    @inlinable @inline(__always) public mutating func writeI32(_ value: Int32) throws(ThriftError) { try output.writeVarint(Zigzag.encode(value)) }
    @inlinable @inline(__always) public mutating func writeI64(_ value: Int64) throws(ThriftError) { try output.writeVarint(Zigzag.encode(value)) }
    @inlinable public mutating func writeDouble(_ value: Double) throws(ThriftError) { try output.writeLittleEndian(value.bitPattern) }

    /// Length, then UTF-8 from the string's storage (a size pass reads only the length).
    @inlinable @inline(__always)
    public mutating func writeString(_ value: String) throws(ThriftError) {
        try output.writeVarint(UInt64(try SizeCheck.wire(value.utf8.count, .compact, offset: output.count, what: "string")))
        try output.writeUTF8(value)
    }

    @inlinable @inline(__always)
    public mutating func writeBinary(_ bytes: UnsafeRawBufferPointer) throws(ThriftError) {
        let size = try SizeCheck.wire(bytes.count, .compact, offset: output.count, what: "string")
        try output.writeVarint(UInt64(size))
        try output.writeBytes(bytes)
    }

    /// A list's integers as one block of varints (one check of the output for the list); i8
    /// elements are plain bytes.
    @inlinable
    public mutating func writeElements<T: FixedWidthInteger & ThriftElement>(_ values: UnsafeBufferPointer<T>) throws(ThriftError) {
        if T.self == Int64.self {
            try values.withMemoryRebound(to: Int64.self) { numbers throws(ThriftError) in try output.writeZigzagVarints(contentsOf: numbers) }
        } else if T.self == Int32.self {
            try values.withMemoryRebound(to: Int32.self) { numbers throws(ThriftError) in try output.writeZigzagVarints(contentsOf: numbers) }
        } else if T.self == Int16.self {
            try values.withMemoryRebound(to: Int16.self) { numbers throws(ThriftError) in try output.writeZigzagVarints(contentsOf: numbers) }
        } else {
            for value in values { try value.write(to: &self) }
        }
    }

    /// Doubles are little-endian on the wire: on a little-endian machine, the list's memory as it is.
    @inlinable
    public mutating func writeElements(_ values: UnsafeBufferPointer<Double>) throws(ThriftError) {
        #if _endian(little)
        try output.writeBytes(contentsOf: values)
        #else
        for value in values { try writeDouble(value) }
        #endif
    }

    @inlinable
    public mutating func writeUUID(_ value: ThriftUUID) throws(ThriftError) {
        try output.writeBigEndian(value.high)
        try output.writeBigEndian(value.low)
    }
}

/// Sizes a compact-protocol encoding without writing it.
public typealias CompactSizer = CompactWriter<ByteCounter>

extension CompactWriter where Output == ByteCounter {
    @inlinable public init() { self.init(ByteCounter()) }
}
