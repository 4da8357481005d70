/// Writes the Thrift binary protocol with strict message headers
/// (`0x80 0x01 0x00 type`), as every current Apache implementation does.
public struct BinaryWriter<Output: ThriftOutput>: ThriftProtocolWriter {
    public static var protocolID: ThriftProtocolID { .binary }

    public var output: Output

    @inlinable
    public init(_ output: Output) { self.output = output }

    @inlinable public var count: Int { output.count }

    @inlinable
    public mutating func writeMessageBegin(name: UnsafeRawBufferPointer, type: MessageType, sequenceID: Int32) throws(ThriftError) {
        try output.writeBigEndian(UInt32(0x8001_0000) | UInt32(type.rawValue))
        try writeBinary(name)
        try output.writeBigEndian(sequenceID)
    }

    @inlinable public mutating func writeStructBegin() -> StructToken { StructToken(lastFieldID: 0) }
    @inlinable public mutating func writeStructEnd(_ token: StructToken) {}

    @inlinable @inline(__always)
    public mutating func writeFieldBegin(_ type: ThriftType, id: Int16) throws(ThriftError) {
        try output.writeByte(type.rawValue)
        try output.writeBigEndian(id)
    }

    @inlinable public mutating func writeFieldStop() throws(ThriftError) { try output.writeByte(0) }

    @inlinable @inline(__always)
    public mutating func writeListBegin(_ elementType: ThriftType, count: Int) throws(ThriftError) {
        let size = try SizeCheck.wire(count, .binary, offset: output.count, what: "list")
        try output.writeByte(elementType.rawValue)
        try output.writeBigEndian(size)
    }

    @inlinable
    public mutating func writeSetBegin(_ elementType: ThriftType, count: Int) throws(ThriftError) {
        try writeListBegin(elementType, count: count)
    }

    @inlinable @inline(__always)
    public mutating func writeMapBegin(keyType: ThriftType, valueType: ThriftType, count: Int) throws(ThriftError) {
        let size = try SizeCheck.wire(count, .binary, offset: output.count, what: "map")
        try output.writeByte(keyType.rawValue)
        try output.writeByte(valueType.rawValue)
        try output.writeBigEndian(size)
    }

    @inlinable public mutating func writeBool(_ value: Bool) throws(ThriftError) { try output.writeByte(value ? 1 : 0) }
    @inlinable public mutating func writeI8(_ value: Int8) throws(ThriftError) { try output.writeByte(UInt8(bitPattern: value)) }
    @inlinable public mutating func writeI16(_ value: Int16) throws(ThriftError) { try output.writeBigEndian(value) }
    @inlinable public mutating func writeI32(_ value: Int32) throws(ThriftError) { try output.writeBigEndian(value) }
    @inlinable public mutating func writeI64(_ value: Int64) throws(ThriftError) { try output.writeBigEndian(value) }
    @inlinable public mutating func writeDouble(_ value: Double) throws(ThriftError) { try output.writeBigEndian(value.bitPattern) }

    @inlinable @inline(__always)
    public mutating func writeBinary(_ bytes: UnsafeRawBufferPointer) throws(ThriftError) {
        let size = try SizeCheck.wire(bytes.count, .binary, offset: output.count, what: "string")
        try output.writeBigEndian(size)
        try output.writeBytes(bytes)
    }

    /// Length, then UTF-8 from the string's storage (a size pass reads only the length).
    @inlinable @inline(__always)
    public mutating func writeString(_ value: String) throws(ThriftError) {
        try output.writeBigEndian(try SizeCheck.wire(value.utf8.count, .binary, offset: output.count, what: "string"))
        try output.writeUTF8(value)
    }

    /// Big-endian numbers back to back: one claim of the output for the whole list.
    @inlinable
    public mutating func writeElements<T: FixedWidthInteger & ThriftElement>(_ values: UnsafeBufferPointer<T>) throws(ThriftError) {
        try output.writeBigEndian(contentsOf: values)
    }

    @inlinable
    public mutating func writeElements(_ values: UnsafeBufferPointer<Double>) throws(ThriftError) {
        try values.withMemoryRebound(to: UInt64.self) { bits throws(ThriftError) in try output.writeBigEndian(contentsOf: bits) }
    }

    @inlinable
    public mutating func writeUUID(_ value: ThriftUUID) throws(ThriftError) {
        try output.writeBigEndian(value.high)
        try output.writeBigEndian(value.low)
    }
}

/// Sizes a binary-protocol encoding without writing it.
public typealias BinarySizer = BinaryWriter<ByteCounter>

extension BinaryWriter where Output == ByteCounter {
    @inlinable public init() { self.init(ByteCounter()) }
}
