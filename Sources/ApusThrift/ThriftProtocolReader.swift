/// The header of a message: its name (a view into the input), type and sequence id.
public struct MessageHeader: Sendable, Hashable {
    public var name: BytesView
    public var type: MessageType
    public var sequenceID: Int32

    @inlinable
    public init(name: BytesView, type: MessageType, sequenceID: Int32) {
        self.name = name
        self.type = type
        self.sequenceID = sequenceID
    }
}

/// A field header. `type == .stop` ends the struct.
public struct FieldHeader: Sendable, Hashable {
    public var type: ThriftType
    public var id: Int16

    @inlinable
    public init(type: ThriftType, id: Int16) {
        self.type = type
        self.id = id
    }
}

/// A list or set header.
public struct ListHeader: Sendable, Hashable {
    public var elementType: ThriftType
    public var count: Int

    @inlinable
    public init(elementType: ThriftType, count: Int) {
        self.elementType = elementType
        self.count = count
    }
}

/// A map header. An empty compact map carries no types: both are `.stop` then.
public struct MapHeader: Sendable, Hashable {
    public var keyType: ThriftType
    public var valueType: ThriftType
    public var count: Int

    @inlinable
    public init(keyType: ThriftType, valueType: ThriftType, count: Int) {
        self.keyType = keyType
        self.valueType = valueType
        self.count = count
    }
}

/// State a protocol saves when a struct begins and restores when it ends
/// (the compact protocol's last field id). Keeping it on the caller's stack
/// instead of in a heap stack makes nested decoding allocation-free.
public struct StructToken: Sendable {
    @usableFromInline var lastFieldID: Int16
    @inlinable init(lastFieldID: Int16) { self.lastFieldID = lastFieldID }
}

/// Reads Thrift values from borrowed bytes. Implemented by `BinaryReader`
/// and `CompactReader`; generated code is generic over it and specializes.
///
/// Every `…Begin` that opens a struct or container must be matched by its
/// `…End`: they count nesting depth against `ThriftLimits.maxDepth`.
public protocol ThriftProtocolReader {
    static var protocolID: ThriftProtocolID { get }
    var limits: ThriftLimits { get }
    /// Bytes consumed so far.
    var offset: Int { get }

    mutating func readMessageBegin() throws(ThriftError) -> MessageHeader
    mutating func readStructBegin() throws(ThriftError) -> StructToken
    mutating func readStructEnd(_ token: StructToken)
    mutating func readFieldBegin() throws(ThriftError) -> FieldHeader
    mutating func readListBegin() throws(ThriftError) -> ListHeader
    mutating func readListEnd()
    mutating func readSetBegin() throws(ThriftError) -> ListHeader
    mutating func readSetEnd()
    mutating func readMapBegin() throws(ThriftError) -> MapHeader
    mutating func readMapEnd()

    mutating func readBool() throws(ThriftError) -> Bool
    mutating func readI8() throws(ThriftError) -> Int8
    mutating func readI16() throws(ThriftError) -> Int16
    mutating func readI32() throws(ThriftError) -> Int32
    mutating func readI64() throws(ThriftError) -> Int64
    mutating func readDouble() throws(ThriftError) -> Double
    /// A string or binary value as a view into the input.
    mutating func readBinary() throws(ThriftError) -> BytesView
    mutating func readUUID() throws(ThriftError) -> ThriftUUID

    /// Skips `count` values of `type` (a container's elements). Readers
    /// override it to jump over fixed-width elements in one step.
    mutating func skipElements(_ type: ThriftType, count: Int) throws(ThriftError)

    /// The input between `start` and the current offset: what was just read, as a view.
    func consumedBytes(from start: Int) -> UnsafeRawBufferPointer

    /// An error at the current offset, for generated code (e.g. a missing required field).
    func error(_ kind: ThriftError.Kind, fieldID: Int16?, detail: String) -> ThriftError
}

extension ThriftProtocolReader {
    /// One `skip` per element: correct for every type, the fallback of the fast paths.
    @inlinable
    public mutating func skipEachElement(_ type: ThriftType, count: Int) throws(ThriftError) {
        for _ in 0..<count { try skip(type) }
    }

    /// A string value, copied out of the input (invalid UTF-8 is repaired).
    @inlinable
    public mutating func readString() throws(ThriftError) -> String {
        try readBinary().string
    }

    /// Reads and discards one value of `type`, recursing into structs and
    /// containers (bounded by the depth limit), as Apache's `TProtocolUtil.skip`.
    @inlinable
    public mutating func skip(_ type: ThriftType) throws(ThriftError) {
        // On the raw byte: one jump table, where matching `ThriftType` values compares in turn.
        switch type.rawValue {
        case ThriftType.bool.rawValue: _ = try readBool()
        case ThriftType.i8.rawValue: _ = try readI8()
        case ThriftType.i16.rawValue: _ = try readI16()
        case ThriftType.i32.rawValue: _ = try readI32()
        case ThriftType.i64.rawValue: _ = try readI64()
        case ThriftType.double.rawValue: _ = try readDouble()
        case ThriftType.string.rawValue: _ = try readBinary()
        case ThriftType.uuid.rawValue: _ = try readUUID()
        case ThriftType.struct.rawValue:
            let token = try readStructBegin()
            while true {
                let field = try readFieldBegin()
                if field.type == .stop { break }
                try skip(field.type)
            }
            readStructEnd(token)
        case ThriftType.list.rawValue, ThriftType.set.rawValue:
            let header = type == .list ? try readListBegin() : try readSetBegin()
            try skipElements(header.elementType, count: header.count)
            if type == .list { readListEnd() } else { readSetEnd() }
        case ThriftType.map.rawValue:
            let header = try readMapBegin()
            for _ in 0..<header.count {
                try skip(header.keyType)
                try skip(header.valueType)
            }
            readMapEnd()
        default:
            throw error(.invalidType, fieldID: nil, detail: "cannot skip a value of \(type)")
        }
    }
}
