/// Reads the Thrift binary protocol (apache/thrift doc/specs/thrift-binary-protocol.md)
/// from borrowed bytes without copying: strings and binaries come back as views.
///
/// Create it inside the scope that keeps the bytes alive:
/// `bytes.withUnsafeBytes { var reader = BinaryReader($0); ... }`.
/// Both strict (`0x80 0x01 …`) and old (name length first) message headers are read.
public struct BinaryReader: ThriftProtocolReader {
    public static var protocolID: ThriftProtocolID { .binary }

    @usableFromInline var cursor: ByteCursor
    @usableFromInline var depth: Int = 0
    public let limits: ThriftLimits

    @inlinable
    public init(_ buffer: UnsafeRawBufferPointer, limits: ThriftLimits = .default) {
        self.cursor = ByteCursor(buffer)
        self.limits = limits
    }

    @inlinable public var offset: Int { cursor.offset }
    /// Bytes left to read.
    @inlinable public var remaining: Int { cursor.remaining }

    public func error(_ kind: ThriftError.Kind, fieldID: Int16?, detail: String) -> ThriftError {
        ThriftError(kind, protocolID: .binary, offset: cursor.offset, fieldID: fieldID, detail: detail)
    }

    @inlinable
    public func consumedBytes(from start: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: cursor.base + start, count: cursor.offset - start)
    }

    @usableFromInline @inline(never)
    func truncated(_ what: StaticString, needed: Int) -> ThriftError {
        ThriftError.cold(.truncated, protocolID: .binary, offset: cursor.offset,
                    detail: { "\(what) needs \(needed) bytes, \(cursor.remaining) left" })
    }

    // MARK: Messages

    @inlinable
    public mutating func readMessageBegin() throws(ThriftError) -> MessageHeader {
        let start = cursor.offset
        let first = try readI32()
        if first < 0 {
            // Strict: 0x8001 version, then the type in the low byte.
            let version = UInt32(bitPattern: first) & 0xFFFF_0000
            guard version == 0x8001_0000 else {
                throw ThriftError.cold(.badVersion, protocolID: .binary, offset: start,
                                  detail: { "expected version 0x80010000, found 0x\(String(UInt32(bitPattern: first), radix: 16))" })
            }
            let type = try Self.messageType(UInt8(truncatingIfNeeded: first), at: start + 3)
            let name = try readBinary()
            let sequenceID = try readI32()
            return MessageHeader(name: name, type: type, sequenceID: sequenceID)
        }
        // Old header: the name's length, the name, then a type byte.
        let name = try readSized(Int(first), what: "message name")
        let typeOffset = cursor.offset
        let type = try Self.messageType(UInt8(bitPattern: try readI8()), at: typeOffset)
        let sequenceID = try readI32()
        return MessageHeader(name: name, type: type, sequenceID: sequenceID)
    }

    @usableFromInline
    static func messageType(_ byte: UInt8, at offset: Int) throws(ThriftError) -> MessageType {
        guard let type = MessageType(rawValue: byte) else {
            throw ThriftError.cold(.invalidMessageType, protocolID: .binary, offset: offset, typeByte: byte,
                              detail: { "message type must be 1 (call), 2 (reply), 3 (exception) or 4 (oneway)" })
        }
        return type
    }

    // MARK: Structs and containers

    @inlinable
    mutating func enter() throws(ThriftError) {
        depth &+= 1
        if depth > limits.maxDepth {
            throw ThriftError.cold(.depthLimit, protocolID: .binary, offset: cursor.offset, limit: limits.maxDepth,
                              detail: { "structs and containers nest deeper than the limit" })
        }
    }

    @inlinable
    public mutating func readStructBegin() throws(ThriftError) -> StructToken {
        try enter()
        return StructToken(lastFieldID: 0)
    }

    @inlinable public mutating func readStructEnd(_ token: StructToken) { depth &-= 1 }

    @inlinable
    public mutating func readFieldBegin() throws(ThriftError) -> FieldHeader {
        guard let typeByte = cursor.readByte() else { throw truncated("field type", needed: 1) }
        if typeByte == 0 { return FieldHeader(type: .stop, id: 0) }
        let type = try wireType(typeByte)
        guard let id = cursor.readBigEndian(Int16.self) else { throw truncated("field id", needed: 2) }
        return FieldHeader(type: type, id: id)
    }

    @inlinable
    func wireType(_ byte: UInt8) throws(ThriftError) -> ThriftType {
        guard let type = ThriftType(validating: byte) else {
            throw ThriftError.cold(.invalidType, protocolID: .binary, offset: cursor.offset - 1, typeByte: byte,
                              detail: { "byte \(byte) is not a Thrift type" })
        }
        return type
    }

    /// The fewest bytes one value of `type` occupies; bounds element counts
    /// against the remaining input before anything is allocated.
    @inlinable
    static func minimumSize(_ type: ThriftType) -> Int {
        switch type.rawValue {
        case 6: 2                     // i16
        case 8, 11: 4                 // i32, string
        case 4, 10: 8                 // double, i64
        case 14, 15: 5                // set, list
        case 13: 6                    // map
        case 16: 16                   // uuid
        default: 1                    // bool, i8, struct
        }
    }

    @inlinable
    mutating func readCount(elementBytes: Int, what: StaticString) throws(ThriftError) -> Int {
        let at = cursor.offset
        let count = Int(try readI32())
        guard count >= 0 else {
            throw ThriftError.cold(.negativeSize, protocolID: .binary, offset: at, detail: { "\(what) size \(count)" })
        }
        guard count <= limits.maxContainerSize else {
            throw ThriftError.cold(.sizeLimit, protocolID: .binary, offset: at, limit: limits.maxContainerSize,
                              detail: { "\(what) of \(count) elements" })
        }
        guard count <= cursor.remaining / elementBytes else {
            throw ThriftError.cold(.truncated, protocolID: .binary, offset: at,
                              detail: { "\(what) of \(count) elements needs at least \(count * elementBytes) bytes, \(cursor.remaining) left" })
        }
        return count
    }

    @inlinable
    public mutating func readListBegin() throws(ThriftError) -> ListHeader {
        try enter()
        guard let typeByte = cursor.readByte() else { throw truncated("list element type", needed: 1) }
        let type = try wireType(typeByte)
        let count = try readCount(elementBytes: Self.minimumSize(type), what: "list")
        return ListHeader(elementType: type, count: count)
    }

    @inlinable public mutating func readListEnd() { depth &-= 1 }
    @inlinable public mutating func readSetBegin() throws(ThriftError) -> ListHeader { try readListBegin() }
    @inlinable public mutating func readSetEnd() { depth &-= 1 }

    @inlinable
    public mutating func readMapBegin() throws(ThriftError) -> MapHeader {
        try enter()
        guard let keyByte = cursor.readByte() else { throw truncated("map key type", needed: 1) }
        let keyType = try wireType(keyByte)
        guard let valueByte = cursor.readByte() else { throw truncated("map value type", needed: 1) }
        let valueType = try wireType(valueByte)
        let count = try readCount(elementBytes: Self.minimumSize(keyType) + Self.minimumSize(valueType), what: "map")
        return MapHeader(keyType: keyType, valueType: valueType, count: count)
    }

    @inlinable public mutating func readMapEnd() { depth &-= 1 }

    /// Fixed-width elements are skipped in one step: the count was already
    /// checked against the remaining bytes with exactly this width.
    @inlinable
    public mutating func skipElements(_ type: ThriftType, count: Int) throws(ThriftError) {
        switch type.rawValue {
        case 2, 3, 4, 6, 8, 10, 16:  // bool, i8, double, i16, i32, i64, uuid
            let length = count &* Self.minimumSize(type)
            guard length <= cursor.remaining else { throw truncated("list elements", needed: length) }
            cursor.offset &+= length
        default:
            try skipEachElement(type, count: count)
        }
    }

    // MARK: Scalars

    @inlinable
    public mutating func readBool() throws(ThriftError) -> Bool {
        guard let byte = cursor.readByte() else { throw truncated("bool", needed: 1) }
        return byte != 0
    }

    @inlinable
    public mutating func readI8() throws(ThriftError) -> Int8 {
        guard let byte = cursor.readByte() else { throw truncated("i8", needed: 1) }
        return Int8(bitPattern: byte)
    }

    @inlinable
    public mutating func readI16() throws(ThriftError) -> Int16 {
        guard let value = cursor.readBigEndian(Int16.self) else { throw truncated("i16", needed: 2) }
        return value
    }

    @inlinable
    public mutating func readI32() throws(ThriftError) -> Int32 {
        guard let value = cursor.readBigEndian(Int32.self) else { throw truncated("i32", needed: 4) }
        return value
    }

    @inlinable
    public mutating func readI64() throws(ThriftError) -> Int64 {
        guard let value = cursor.readBigEndian(Int64.self) else { throw truncated("i64", needed: 8) }
        return value
    }

    @inlinable
    public mutating func readDouble() throws(ThriftError) -> Double {
        guard let bits = cursor.readBigEndian(UInt64.self) else { throw truncated("double", needed: 8) }
        return Double(bitPattern: bits)
    }

    @inlinable
    public mutating func readBinary() throws(ThriftError) -> BytesView {
        let length = try readI32()
        return try readSized(Int(length), what: "string")
    }

    @inlinable
    mutating func readSized(_ length: Int, what: StaticString) throws(ThriftError) -> BytesView {
        guard length >= 0 else {
            throw ThriftError.cold(.negativeSize, protocolID: .binary, offset: cursor.offset - 4, detail: { "\(what) length \(length)" })
        }
        guard length <= limits.maxStringSize else {
            throw ThriftError.cold(.sizeLimit, protocolID: .binary, offset: cursor.offset - 4, limit: limits.maxStringSize,
                              detail: { "\(what) of \(length) bytes" })
        }
        guard length <= cursor.remaining else { throw truncated(what, needed: length) }
        return BytesView(cursor.take(length))
    }

    @inlinable
    public mutating func readUUID() throws(ThriftError) -> ThriftUUID {
        guard cursor.remaining >= 16 else { throw truncated("uuid", needed: 16) }
        let high = cursor.readBigEndian(UInt64.self)!
        let low = cursor.readBigEndian(UInt64.self)!
        return ThriftUUID(high: high, low: low)
    }
}
