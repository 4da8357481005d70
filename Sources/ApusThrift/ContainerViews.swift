/// A list or set left in the input: decoding it walks (and so validates)
/// the elements once without storing them; iterating reads them again,
/// lazily, from the same bytes. Valid as long as the input is.
public struct ListView<Element: ThriftElement>: Sequence, @unchecked Sendable {
    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline let protocolID: ThriftProtocolID
    public let count: Int

    @inlinable
    public init<Reader: ThriftProtocolReader>(from reader: inout Reader, set: Bool = false) throws(ThriftError) {
        let header = set ? try reader.readSetBegin() : try reader.readListBegin()
        guard header.elementType == Element.thriftType || header.count == 0 else {
            throw reader.mismatch(set ? "set" : "list", expected: Element.thriftType, found: header.elementType)
        }
        let start = reader.offset
        try reader.skipElements(header.elementType, count: header.count)
        bytes = reader.consumedBytes(from: start)
        if set { reader.readSetEnd() } else { reader.readListEnd() }
        protocolID = Reader.protocolID
        count = header.count
    }

    @inlinable
    public func makeIterator() -> Iterator { Iterator(bytes: bytes, protocolID: protocolID, remaining: count) }

    public struct Iterator: IteratorProtocol {
        @usableFromInline var binary: BinaryReader
        @usableFromInline var compact: CompactReader
        @usableFromInline let protocolID: ThriftProtocolID
        @usableFromInline var remaining: Int

        @inlinable
        init(bytes: UnsafeRawBufferPointer, protocolID: ThriftProtocolID, remaining: Int) {
            binary = BinaryReader(bytes)
            compact = CompactReader(bytes)
            self.protocolID = protocolID
            self.remaining = remaining
        }

        /// The elements were validated when the view was made, so reading them again cannot fail.
        @inlinable
        public mutating func next() -> Element? {
            guard remaining > 0 else { return nil }
            remaining &-= 1
            switch protocolID {
            case .binary: return try! Element.read(from: &binary)
            case .compact: return try! Element.read(from: &compact)
            }
        }
    }
}

/// A map left in the input, like `ListView`: validated once, read lazily.
public struct MapView<Key: ThriftElement, Value: ThriftElement>: Sequence, @unchecked Sendable {
    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline let protocolID: ThriftProtocolID
    public let count: Int

    @inlinable
    public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
        let header = try reader.readMapBegin()
        guard header.count == 0 || (header.keyType == Key.thriftType && header.valueType == Value.thriftType) else {
            throw reader.mismatch("map", expected: Key.thriftType, found: header.keyType)
        }
        let start = reader.offset
        for _ in 0..<header.count {
            try reader.skip(header.keyType)
            try reader.skip(header.valueType)
        }
        bytes = reader.consumedBytes(from: start)
        reader.readMapEnd()
        protocolID = Reader.protocolID
        count = header.count
    }

    @inlinable
    public func makeIterator() -> Iterator { Iterator(bytes: bytes, protocolID: protocolID, remaining: count) }

    public struct Iterator: IteratorProtocol {
        @usableFromInline var binary: BinaryReader
        @usableFromInline var compact: CompactReader
        @usableFromInline let protocolID: ThriftProtocolID
        @usableFromInline var remaining: Int

        @inlinable
        init(bytes: UnsafeRawBufferPointer, protocolID: ThriftProtocolID, remaining: Int) {
            binary = BinaryReader(bytes)
            compact = CompactReader(bytes)
            self.protocolID = protocolID
            self.remaining = remaining
        }

        @inlinable
        public mutating func next() -> (key: Key, value: Value)? {
            guard remaining > 0 else { return nil }
            remaining &-= 1
            switch protocolID {
            case .binary: return (try! Key.read(from: &binary), try! Value.read(from: &binary))
            case .compact: return (try! Key.read(from: &compact), try! Value.read(from: &compact))
            }
        }
    }
}
