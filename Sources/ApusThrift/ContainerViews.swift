/// A list or set left in the input: decoding it walks (and so validates)
/// the elements once without storing them; iterating reads them again,
/// lazily, from the same bytes. Valid as long as the input is.
///
/// Elements that decode themselves (structs and their views) are decoded once
/// while validating, since skipping checks only the wire shape and a struct
/// may still reject it (a required field missing, a nested type mismatch):
/// iterating can then never fail.
public struct ListView<Element: ThriftElement>: Sequence, @unchecked Sendable {
    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline let protocolID: ThriftProtocolID
    public let count: Int

    /// No elements (what a view holds for a list field the input left out).
    @inlinable public static var empty: ListView { ListView(bytes: UnsafeRawBufferPointer(start: nil, count: 0), protocolID: .binary, count: 0) }

    @inlinable
    init(bytes: UnsafeRawBufferPointer, protocolID: ThriftProtocolID, count: Int) {
        self.bytes = bytes
        self.protocolID = protocolID
        self.count = count
    }

    public var isEmpty: Bool { count == 0 }

    @inlinable
    public init<Reader: ThriftProtocolReader>(from reader: inout Reader, set: Bool = false) throws(ThriftError) {
        let header = set ? try reader.readSetBegin() : try reader.readListBegin()
        guard header.elementType == Element.thriftType || header.count == 0 else {
            throw reader.mismatch(set ? "set" : "list", expected: Element.thriftType, found: header.elementType)
        }
        let start = reader.offset
        if Element.validatesByDecoding {
            for _ in 0..<header.count { _ = try Element.read(from: &reader) }
        } else {
            try reader.skipElements(header.elementType, count: header.count)
        }
        bytes = reader.consumedBytes(from: start)
        if set { reader.readSetEnd() } else { reader.readListEnd() }
        protocolID = Reader.protocolID
        count = header.count
    }

    @inlinable
    public func makeIterator() -> Iterator { Iterator(bytes: bytes, protocolID: protocolID, remaining: count) }

    public struct Iterator: IteratorProtocol {
        @usableFromInline var cursor: ElementCursor
        @usableFromInline var remaining: Int

        @inlinable
        init(bytes: UnsafeRawBufferPointer, protocolID: ThriftProtocolID, remaining: Int) {
            cursor = ElementCursor(bytes: bytes, protocolID: protocolID)
            self.remaining = remaining
        }

        @inlinable
        public mutating func next() -> Element? {
            guard remaining > 0 else { return nil }
            remaining &-= 1
            return cursor.read(Element.self)
        }
    }
}

/// A map left in the input, like `ListView`: validated once, read lazily.
public struct MapView<Key: ThriftElement, Value: ThriftElement>: Sequence, @unchecked Sendable {
    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline let protocolID: ThriftProtocolID
    public let count: Int

    /// No entries (what a view holds for a map field the input left out).
    @inlinable public static var empty: MapView { MapView(bytes: UnsafeRawBufferPointer(start: nil, count: 0), protocolID: .binary, count: 0) }

    @inlinable
    init(bytes: UnsafeRawBufferPointer, protocolID: ThriftProtocolID, count: Int) {
        self.bytes = bytes
        self.protocolID = protocolID
        self.count = count
    }

    public var isEmpty: Bool { count == 0 }

    @inlinable
    public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
        let header = try reader.readMapBegin()
        guard header.count == 0 || (header.keyType == Key.thriftType && header.valueType == Value.thriftType) else {
            throw reader.mismatch("map", expected: Key.thriftType, found: header.keyType)
        }
        let start = reader.offset
        let (decodesKey, decodesValue) = (Key.validatesByDecoding, Value.validatesByDecoding)
        for _ in 0..<header.count {
            if decodesKey { _ = try Key.read(from: &reader) } else { try reader.skip(header.keyType) }
            if decodesValue { _ = try Value.read(from: &reader) } else { try reader.skip(header.valueType) }
        }
        bytes = reader.consumedBytes(from: start)
        reader.readMapEnd()
        protocolID = Reader.protocolID
        count = header.count
    }

    @inlinable
    public func makeIterator() -> Iterator { Iterator(bytes: bytes, protocolID: protocolID, remaining: count) }

    public struct Iterator: IteratorProtocol {
        @usableFromInline var cursor: ElementCursor
        @usableFromInline var remaining: Int

        @inlinable
        init(bytes: UnsafeRawBufferPointer, protocolID: ThriftProtocolID, remaining: Int) {
            cursor = ElementCursor(bytes: bytes, protocolID: protocolID)
            self.remaining = remaining
        }

        @inlinable
        public mutating func next() -> (key: Key, value: Value)? {
            guard remaining > 0 else { return nil }
            remaining &-= 1
            return (cursor.read(Key.self), cursor.read(Value.self))
        }
    }
}

/// Re-reads elements a view already validated, in the protocol they were written in.
@usableFromInline
struct ElementCursor {
    @usableFromInline var binary: BinaryReader
    @usableFromInline var compact: CompactReader
    @usableFromInline let protocolID: ThriftProtocolID

    @inlinable
    init(bytes: UnsafeRawBufferPointer, protocolID: ThriftProtocolID) {
        binary = BinaryReader(bytes)
        compact = CompactReader(bytes)
        self.protocolID = protocolID
    }

    /// The bytes were validated when the view was made, so reading them again cannot fail.
    @inlinable
    mutating func read<E: ThriftElement>(_: E.Type) -> E {
        switch protocolID {
        case .binary: try! E.read(from: &binary)
        case .compact: try! E.read(from: &compact)
        }
    }
}
