/// Reads the Thrift compact protocol (apache/thrift doc/specs/thrift-compact-protocol.md)
/// from borrowed bytes without copying: strings and binaries come back as views.
///
/// Integers are zigzag varints (at most 5 bytes for 32 bits, 10 for 64),
/// doubles little-endian, field ids deltas from the previous field, and a
/// bool field's value lives in its type nibble.
public struct CompactReader: ThriftProtocolReader {
    public static var protocolID: ThriftProtocolID { .compact }

    @usableFromInline var cursor: ByteCursor
    @usableFromInline var depth: Int = 0
    @usableFromInline var lastFieldID: Int16 = 0
    /// A bool field's value, read with its header, waiting for `readBool`.
    @usableFromInline var pendingBool: Bool? = nil
    public let limits: ThriftLimits

    @inlinable
    public init(_ buffer: UnsafeRawBufferPointer, limits: ThriftLimits = .default) {
        self.cursor = ByteCursor(buffer)
        self.limits = limits
    }

    @inlinable public var offset: Int { cursor.offset }
    @inlinable public var remaining: Int { cursor.remaining }

    public func error(_ kind: ThriftError.Kind, fieldID: Int16?, detail: String) -> ThriftError {
        ThriftError(kind, protocolID: .compact, offset: cursor.offset, fieldID: fieldID, detail: detail)
    }

    @inlinable
    public func consumedBytes(from start: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: cursor.base + start, count: cursor.offset - start)
    }

    @usableFromInline @inline(never)
    func truncated(_ what: StaticString, needed: Int) -> ThriftError {
        ThriftError.cold(.truncated, protocolID: .compact, offset: cursor.offset,
                    detail: { "\(what) needs \(needed) bytes, \(cursor.remaining) left" })
    }

    // MARK: Varints

    @inlinable
    mutating func readVarint32() throws(ThriftError) -> UInt32 {
        let start = cursor.offset
        var result: UInt32 = 0
        var shift: UInt32 = 0
        while true {
            guard let byte = cursor.readByte() else { throw truncated("varint", needed: 1) }
            result |= UInt32(truncatingIfNeeded: byte & 0x7F) &<< shift
            if byte & 0x80 == 0 { return result }
            shift &+= 7
            if shift >= 35 {
                throw ThriftError.cold(.varintTooLong, protocolID: .compact, offset: start, detail: { "32-bit varint longer than 5 bytes" })
            }
        }
    }

    @inlinable
    mutating func readVarint64() throws(ThriftError) -> UInt64 {
        let start = cursor.offset
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard let byte = cursor.readByte() else { throw truncated("varint", needed: 1) }
            result |= UInt64(byte & 0x7F) &<< shift
            if byte & 0x80 == 0 { return result }
            shift &+= 7
            if shift >= 70 {
                throw ThriftError.cold(.varintTooLong, protocolID: .compact, offset: start, detail: { "64-bit varint longer than 10 bytes" })
            }
        }
    }

    @inlinable
    static func unzigzag(_ n: UInt32) -> Int32 { Int32(bitPattern: (n >> 1) ^ (0 &- (n & 1))) }
    @inlinable
    static func unzigzag(_ n: UInt64) -> Int64 { Int64(bitPattern: (n >> 1) ^ (0 &- (n & 1))) }

    // MARK: Messages

    @inlinable
    public mutating func readMessageBegin() throws(ThriftError) -> MessageHeader {
        let start = cursor.offset
        guard let protocolByte = cursor.readByte() else { throw truncated("protocol id", needed: 1) }
        guard protocolByte == 0x82 else {
            throw ThriftError.cold(.badVersion, protocolID: .compact, offset: start, typeByte: protocolByte,
                              detail: { "expected protocol id 0x82, found 0x\(String(protocolByte, radix: 16))" })
        }
        guard let versionAndType = cursor.readByte() else { throw truncated("version", needed: 1) }
        guard versionAndType & 0x1F == 1 else {
            throw ThriftError.cold(.badVersion, protocolID: .compact, offset: start + 1,
                              detail: { "expected version 1, found \(versionAndType & 0x1F)" })
        }
        let typeValue = versionAndType >> 5
        guard let type = MessageType(rawValue: typeValue) else {
            throw ThriftError.cold(.invalidMessageType, protocolID: .compact, offset: start + 1, typeByte: typeValue,
                              detail: { "message type must be 1 (call), 2 (reply), 3 (exception) or 4 (oneway)" })
        }
        let sequenceID = Int32(bitPattern: try readVarint32())
        let name = try readBinary()
        return MessageHeader(name: name, type: type, sequenceID: sequenceID)
    }

    // MARK: Structs and containers

    @inlinable
    mutating func enter() throws(ThriftError) {
        depth &+= 1
        if depth > limits.maxDepth {
            throw ThriftError.cold(.depthLimit, protocolID: .compact, offset: cursor.offset, limit: limits.maxDepth,
                              detail: { "structs and containers nest deeper than the limit" })
        }
    }

    @inlinable
    public mutating func readStructBegin() throws(ThriftError) -> StructToken {
        try enter()
        defer { lastFieldID = 0 }
        return StructToken(lastFieldID: lastFieldID)
    }

    @inlinable
    public mutating func readStructEnd(_ token: StructToken) {
        depth &-= 1
        lastFieldID = token.lastFieldID
    }

    /// Maps a compact type nibble to a wire type; 1 and 2 are bool (true/false).
    /// Static: `UnframedMessageScanner` reads nibbles by the same rules.
    @inlinable
    static func wireType(_ nibble: UInt8, at offset: Int) throws(ThriftError) -> ThriftType {
        switch nibble {
        case 1, 2: return .bool
        case 3: return .i8
        case 4: return .i16
        case 5: return .i32
        case 6: return .i64
        case 7: return .double
        case 8: return .string
        case 9: return .list
        case 10: return .set
        case 11: return .map
        case 12: return .struct
        case 13: return .uuid
        default:
            throw ThriftError.cold(.invalidType, protocolID: .compact, offset: offset, typeByte: nibble,
                              detail: { "compact type \(nibble) is not a Thrift type" })
        }
    }

    @inlinable
    public mutating func readFieldBegin() throws(ThriftError) -> FieldHeader {
        let start = cursor.offset
        guard let byte = cursor.readByte() else { throw truncated("field header", needed: 1) }
        if byte == 0 { return FieldHeader(type: .stop, id: 0) }
        let nibble = byte & 0x0F
        let type = try Self.wireType(nibble, at: start)
        let delta = byte >> 4
        let id: Int16
        if delta != 0 {
            id = lastFieldID &+ Int16(delta)
        } else {
            let raw = Self.unzigzag(try readVarint32())
            guard let narrow = Int16(exactly: raw) else {
                throw ThriftError.cold(.invalidValue, protocolID: .compact, offset: start, detail: { "field id \(raw) does not fit i16" })
            }
            id = narrow
        }
        lastFieldID = id
        if type == .bool { pendingBool = nibble == 1 }
        return FieldHeader(type: type, id: id)
    }

    @inlinable
    static func minimumSize(_ type: ThriftType) -> Int {
        switch type.rawValue {
        case 4: 8                     // double
        case 16: 16                   // uuid
        default: 1
        }
    }

    @inlinable
    mutating func checkCount(_ raw: UInt32, elementBytes: Int, at offset: Int, what: StaticString) throws(ThriftError) -> Int {
        let count = Int(Int32(bitPattern: raw))
        guard count >= 0 else {
            throw ThriftError.cold(.negativeSize, protocolID: .compact, offset: offset, detail: { "\(what) size \(count)" })
        }
        guard count <= limits.maxContainerSize else {
            throw ThriftError.cold(.sizeLimit, protocolID: .compact, offset: offset, limit: limits.maxContainerSize,
                              detail: { "\(what) of \(count) elements" })
        }
        guard count <= cursor.remaining / elementBytes else {
            throw ThriftError.cold(.truncated, protocolID: .compact, offset: offset,
                              detail: { "\(what) of \(count) elements needs at least \(count * elementBytes) bytes, \(cursor.remaining) left" })
        }
        return count
    }

    @inlinable
    public mutating func readListBegin() throws(ThriftError) -> ListHeader {
        try enter()
        let start = cursor.offset
        guard let byte = cursor.readByte() else { throw truncated("list header", needed: 1) }
        let type = try Self.wireType(byte & 0x0F, at: start)
        let shortCount = byte >> 4
        let raw = shortCount == 15 ? try readVarint32() : UInt32(shortCount)
        let count = try checkCount(raw, elementBytes: Self.minimumSize(type), at: start, what: "list")
        return ListHeader(elementType: type, count: count)
    }

    @inlinable public mutating func readListEnd() { depth &-= 1 }
    @inlinable public mutating func readSetBegin() throws(ThriftError) -> ListHeader { try readListBegin() }
    @inlinable public mutating func readSetEnd() { depth &-= 1 }

    @inlinable
    public mutating func readMapBegin() throws(ThriftError) -> MapHeader {
        try enter()
        let start = cursor.offset
        let raw = try readVarint32()
        if raw == 0 { return MapHeader(keyType: .stop, valueType: .stop, count: 0) }
        guard let types = cursor.readByte() else { throw truncated("map types", needed: 1) }
        let keyType = try Self.wireType(types >> 4, at: cursor.offset - 1)
        let valueType = try Self.wireType(types & 0x0F, at: cursor.offset - 1)
        let count = try checkCount(raw, elementBytes: Self.minimumSize(keyType) + Self.minimumSize(valueType),
                                   at: start, what: "map")
        return MapHeader(keyType: keyType, valueType: valueType, count: count)
    }

    @inlinable public mutating func readMapEnd() { depth &-= 1 }

    /// i32 and i64 elements are skipped by scanning for their varints' last bytes;
    /// fixed-width ones (i8, bool, double, uuid) in one step. i16 elements are read one
    /// by one: `readI16` takes a varint of up to 5 bytes and range-checks its value, and
    /// a skip that did less would accept messages the decoder rejects and reject ones it
    /// accepts.
    @inlinable
    public mutating func skipElements(_ type: ThriftType, count: Int) throws(ThriftError) {
        switch type.rawValue {
        case 8, 10:  // i32, i64: varints of at most 5, 10 bytes
            let maximum = type.rawValue == 10 ? 10 : 5
            var left = count
            skipVarintWords(&left, maximum: maximum)
            var length = 0
            while left > 0 {
                guard let byte = cursor.readByte() else { throw truncated("varint", needed: 1) }
                length &+= 1
                if byte & 0x80 == 0 {
                    left &-= 1
                    length = 0
                } else if length >= maximum {
                    throw ThriftError.cold(.varintTooLong, protocolID: .compact, offset: cursor.offset - length,
                                           detail: { "varint longer than \(maximum) bytes" })
                }
            }
        case 2, 3, 4, 16:  // bool, i8, double, uuid
            let width = type.rawValue == 4 ? 8 : (type.rawValue == 16 ? 16 : 1)
            let length = count &* width
            guard length <= cursor.remaining else { throw truncated("list elements", needed: length) }
            if type == .bool {
                // Each must still be a valid bool byte.
                for _ in 0..<count { _ = try readBool() }
            } else {
                cursor.offset &+= length
            }
        default:
            try skipEachElement(type, count: count)
        }
    }

    /// Skips whole varints eight bytes at a time while more than a word's worth remain. A byte
    /// with its high bit clear ends a varint, so a word's count of such bytes is the count of
    /// varints it ends. At anything the word cannot settle alone (a varint too long, or
    /// the word that ends the list) it stops: the byte loop takes over, reports errors at
    /// their exact offsets, and ends at the exact byte.
    @inlinable @inline(__always)
    mutating func skipVarintWords(_ left: inout Int, maximum: Int) {
        var run = 0  // continuation bytes since the last varint ended
        while cursor.remaining >= 8 {
            let word = UInt64(littleEndian: cursor.base.loadUnaligned(fromByteOffset: cursor.offset, as: UInt64.self))
            let ends = ~word & 0x8080_8080_8080_8080
            let ended = ends.nonzeroBitCount
            // Byte-wise from here: the list ends in this word, or the first varint it ends is
            // too long, or (5-byte maximum) five continuation bytes in a row within it.
            guard ended < left, run &+ ends.trailingZeroBitCount / 8 < maximum else { break }
            if maximum < 8 {
                let more = word & 0x8080_8080_8080_8080
                if more & more >> 8 & more >> 16 & more >> 24 & more >> 32 != 0 { break }
            }
            left &-= ended
            run = ended == 0 ? run &+ 8 : ends.leadingZeroBitCount / 8
            cursor.offset &+= 8
        }
        // The byte loop reads the unfinished varint again from its first byte.
        cursor.offset &-= run
    }

    // MARK: Scalars

    /// A bool field's value comes from its header; a bool in a container is
    /// one byte, 1 for true and 0 or 2 for false (implementations disagree).
    @inlinable
    public mutating func readBool() throws(ThriftError) -> Bool {
        if let value = pendingBool {
            pendingBool = nil
            return value
        }
        guard let byte = cursor.readByte() else { throw truncated("bool", needed: 1) }
        switch byte {
        case 1: return true
        case 0, 2: return false
        default:
            throw ThriftError.cold(.invalidValue, protocolID: .compact, offset: cursor.offset - 1, typeByte: byte,
                              detail: { "bool byte must be 1 (true), 2 or 0 (false)" })
        }
    }

    @inlinable
    public mutating func readI8() throws(ThriftError) -> Int8 {
        guard let byte = cursor.readByte() else { throw truncated("i8", needed: 1) }
        return Int8(bitPattern: byte)
    }

    @inlinable
    public mutating func readI16() throws(ThriftError) -> Int16 {
        let start = cursor.offset
        let value = Self.unzigzag(try readVarint32())
        guard let narrow = Int16(exactly: value) else {
            throw ThriftError.cold(.invalidValue, protocolID: .compact, offset: start, detail: { "i16 value \(value) out of range" })
        }
        return narrow
    }

    @inlinable
    public mutating func readI32() throws(ThriftError) -> Int32 {
        Self.unzigzag(try readVarint32())
    }

    @inlinable
    public mutating func readI64() throws(ThriftError) -> Int64 {
        Self.unzigzag(try readVarint64())
    }

    @inlinable
    public mutating func readDouble() throws(ThriftError) -> Double {
        guard let bits = cursor.readLittleEndian(UInt64.self) else { throw truncated("double", needed: 8) }
        return Double(bitPattern: bits)
    }

    @inlinable
    public mutating func readBinary() throws(ThriftError) -> BytesView {
        let start = cursor.offset
        let length = Int(Int32(bitPattern: try readVarint32()))
        guard length >= 0 else {
            throw ThriftError.cold(.negativeSize, protocolID: .compact, offset: start, detail: { "string length \(length)" })
        }
        guard length <= limits.maxStringSize else {
            throw ThriftError.cold(.sizeLimit, protocolID: .compact, offset: start, limit: limits.maxStringSize,
                              detail: { "string of \(length) bytes" })
        }
        guard length <= cursor.remaining else { throw truncated("string", needed: length) }
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
