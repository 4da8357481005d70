/// Writes Thrift values. Implemented by `BinaryWriter` and `CompactWriter`
/// over any `ThriftOutput`; generated code is generic over it and specializes.
public protocol ThriftProtocolWriter {
    static var protocolID: ThriftProtocolID { get }
    /// Bytes written so far.
    var count: Int { get }

    mutating func writeMessageBegin(name: UnsafeRawBufferPointer, type: MessageType, sequenceID: Int32) throws(ThriftError)
    mutating func writeStructBegin() -> StructToken
    mutating func writeStructEnd(_ token: StructToken)
    mutating func writeFieldBegin(_ type: ThriftType, id: Int16) throws(ThriftError)
    /// Ends a struct's fields (the stop byte).
    mutating func writeFieldStop() throws(ThriftError)
    mutating func writeListBegin(_ elementType: ThriftType, count: Int) throws(ThriftError)
    mutating func writeSetBegin(_ elementType: ThriftType, count: Int) throws(ThriftError)
    mutating func writeMapBegin(keyType: ThriftType, valueType: ThriftType, count: Int) throws(ThriftError)

    mutating func writeBool(_ value: Bool) throws(ThriftError)
    mutating func writeI8(_ value: Int8) throws(ThriftError)
    mutating func writeI16(_ value: Int16) throws(ThriftError)
    mutating func writeI32(_ value: Int32) throws(ThriftError)
    mutating func writeI64(_ value: Int64) throws(ThriftError)
    mutating func writeDouble(_ value: Double) throws(ThriftError)
    mutating func writeBinary(_ bytes: UnsafeRawBufferPointer) throws(ThriftError)
    mutating func writeUUID(_ value: ThriftUUID) throws(ThriftError)
    mutating func writeString(_ value: String) throws(ThriftError)
    /// The elements of a list or set of integers (after its header): the binary protocol writes
    /// them as one block; others element by element.
    mutating func writeElements<T: FixedWidthInteger & ThriftElement>(_ values: UnsafeBufferPointer<T>) throws(ThriftError)
    /// The elements of a list or set of doubles (after its header).
    mutating func writeElements(_ values: UnsafeBufferPointer<Double>) throws(ThriftError)
}

extension ThriftProtocolWriter {
    @inlinable
    public mutating func writeElements<T: FixedWidthInteger & ThriftElement>(_ values: UnsafeBufferPointer<T>) throws(ThriftError) {
        for value in values { try value.write(to: &self) }
    }

    @inlinable
    public mutating func writeElements(_ values: UnsafeBufferPointer<Double>) throws(ThriftError) {
        for value in values { try writeDouble(value) }
    }

    @inlinable
    public mutating func writeMessageBegin(name: String, type: MessageType, sequenceID: Int32) throws(ThriftError) {
        var name = name
        var failure: ThriftError?
        name.withUTF8 { buffer in
            do throws(ThriftError) {
                try writeMessageBegin(name: UnsafeRawBufferPointer(buffer), type: type, sequenceID: sequenceID)
            } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Writes text as UTF-8 straight from the string's storage (see `StringBytes`).
    @inlinable
    public mutating func writeString(_ value: String) throws(ThriftError) {
        try StringBytes.with(value) { bytes throws(ThriftError) in try writeBinary(bytes) }
    }

    @inlinable
    public mutating func writeBinary(_ value: BytesView) throws(ThriftError) {
        try writeBinary(value.buffer)
    }

    @inlinable
    public mutating func writeBinary(_ value: [UInt8]) throws(ThriftError) {
        var failure: ThriftError?
        value.withUnsafeBytes { buffer in
            do throws(ThriftError) { try writeBinary(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}

@usableFromInline
enum SizeCheck {
    /// Thrift sizes are i32 on the wire.
    @inlinable
    static func wire(_ count: Int, _ protocolID: ThriftProtocolID, offset: Int, what: StaticString) throws(ThriftError) -> Int32 {
        guard count >= 0, let narrow = Int32(exactly: count) else {
            throw ThriftError.cold(count < 0 ? .negativeSize : .sizeLimit, protocolID: protocolID, offset: offset,
                              limit: Int(Int32.max), detail: { "\(what) size \(count) does not fit an i32" })
        }
        return narrow
    }
}
