/// A value that can stand as a field, a container element, a map key or
/// value: it knows its wire type and reads and writes itself. Scalars,
/// strings, views and generated structs conform, so container code is
/// written once (`reader.readList(of: Int64.self)`).
public protocol ThriftElement {
    static var thriftType: ThriftType { get }
    /// Reading can reject bytes that skipping accepts (a struct's required field, a nested
    /// type): container views then validate by decoding each element, not by skipping it.
    /// Also true where reading is skipping, inlined and without allocating (`BytesView`).
    static var validatesByDecoding: Bool { get }
    static func read<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) -> Self
    func write<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError)
}

extension Bool: ThriftElement {
    @inlinable public static var thriftType: ThriftType { .bool }
    @inlinable public static func read<R: ThriftProtocolReader>(from reader: inout R) throws(ThriftError) -> Bool { try reader.readBool() }
    @inlinable public func write<W: ThriftProtocolWriter>(to writer: inout W) throws(ThriftError) { try writer.writeBool(self) }
}

extension Int8: ThriftElement {
    @inlinable public static var thriftType: ThriftType { .i8 }
    @inlinable public static func read<R: ThriftProtocolReader>(from reader: inout R) throws(ThriftError) -> Int8 { try reader.readI8() }
    @inlinable public func write<W: ThriftProtocolWriter>(to writer: inout W) throws(ThriftError) { try writer.writeI8(self) }
}

extension Int16: ThriftElement {
    @inlinable public static var thriftType: ThriftType { .i16 }
    @inlinable public static func read<R: ThriftProtocolReader>(from reader: inout R) throws(ThriftError) -> Int16 { try reader.readI16() }
    @inlinable public func write<W: ThriftProtocolWriter>(to writer: inout W) throws(ThriftError) { try writer.writeI16(self) }
}

extension Int32: ThriftElement {
    @inlinable public static var thriftType: ThriftType { .i32 }
    @inlinable public static func read<R: ThriftProtocolReader>(from reader: inout R) throws(ThriftError) -> Int32 { try reader.readI32() }
    @inlinable public func write<W: ThriftProtocolWriter>(to writer: inout W) throws(ThriftError) { try writer.writeI32(self) }
}

extension Int64: ThriftElement {
    @inlinable public static var thriftType: ThriftType { .i64 }
    @inlinable public static func read<R: ThriftProtocolReader>(from reader: inout R) throws(ThriftError) -> Int64 { try reader.readI64() }
    @inlinable public func write<W: ThriftProtocolWriter>(to writer: inout W) throws(ThriftError) { try writer.writeI64(self) }
}

extension Double: ThriftElement {
    @inlinable public static var thriftType: ThriftType { .double }
    @inlinable public static func read<R: ThriftProtocolReader>(from reader: inout R) throws(ThriftError) -> Double { try reader.readDouble() }
    @inlinable public func write<W: ThriftProtocolWriter>(to writer: inout W) throws(ThriftError) { try writer.writeDouble(self) }
}

extension String: ThriftElement {
    @inlinable public static var thriftType: ThriftType { .string }
    @inlinable public static func read<R: ThriftProtocolReader>(from reader: inout R) throws(ThriftError) -> String { try reader.readString() }
    @inlinable @inline(__always) public func write<W: ThriftProtocolWriter>(to writer: inout W) throws(ThriftError) { try writer.writeString(self) }
}

extension BytesView: ThriftElement {
    @inlinable public static var thriftType: ThriftType { .string }
    /// Reading a view checks what skipping does, inlined: a map of strings is validated
    /// without the generic `skip` per key and value.
    @inlinable public static var validatesByDecoding: Bool { true }
    @inlinable public static func read<R: ThriftProtocolReader>(from reader: inout R) throws(ThriftError) -> BytesView { try reader.readBinary() }
    @inlinable public func write<W: ThriftProtocolWriter>(to writer: inout W) throws(ThriftError) { try writer.writeBinary(buffer) }
}

extension ThriftUUID: ThriftElement {
    @inlinable public static var thriftType: ThriftType { .uuid }
    @inlinable public static func read<R: ThriftProtocolReader>(from reader: inout R) throws(ThriftError) -> ThriftUUID { try reader.readUUID() }
    @inlinable public func write<W: ThriftProtocolWriter>(to writer: inout W) throws(ThriftError) { try writer.writeUUID(self) }
}

extension ThriftElement {
    @inlinable public static var validatesByDecoding: Bool { false }
}

/// Generated structs are elements through their codable conformance.
extension ThriftElement where Self: ThriftCodable {
    @inlinable public static var thriftType: ThriftType { .struct }
    @inlinable public static var validatesByDecoding: Bool { true }
    @inlinable public static func read<R: ThriftProtocolReader>(from reader: inout R) throws(ThriftError) -> Self { try Self(from: &reader) }
    @inlinable public func write<W: ThriftProtocolWriter>(to writer: inout W) throws(ThriftError) { try encode(to: &writer) }
}

extension ThriftProtocolReader {
    @usableFromInline
    func mismatch(_ what: StaticString, expected: ThriftType, found: ThriftType) -> ThriftError {
        error(.invalidType, fieldID: nil, detail: "\(what) holds \(found), expected \(expected)")
    }

    /// Reads a list into an array. An element type other than `E`'s is an error.
    @inlinable
    public mutating func readList<E: ThriftElement>(of _: E.Type) throws(ThriftError) -> [E] {
        var elements: [E] = []
        try readList(into: &elements)
        return elements
    }

    /// Reads a set into an array (wire order kept; use `Set(...)` where elements are Hashable).
    @inlinable
    public mutating func readSet<E: ThriftElement>(of _: E.Type) throws(ThriftError) -> [E] {
        let count = try readSetBegin(of: E.self)
        var elements: [E] = []
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.append(try E.read(from: &self)) }
        readSetEnd()
        return elements
    }

    /// A set's header, its element type checked against `E`'s: its element count.
    @inlinable
    mutating func readSetBegin<E: ThriftElement>(of _: E.Type) throws(ThriftError) -> Int {
        let header = try readSetBegin()
        guard header.elementType == E.thriftType || header.count == 0 else {
            throw mismatch("set", expected: E.thriftType, found: header.elementType)
        }
        return header.count
    }

    /// Reads a list into `elements`, replacing what they were and keeping the array's storage:
    /// read into the same array again, a list allocates only when it outgrows it.
    @inlinable
    public mutating func readList<E: ThriftElement>(into elements: inout [E]) throws(ThriftError) {
        let header = try readListBegin()
        guard header.elementType == E.thriftType || header.count == 0 else {
            throw mismatch("list", expected: E.thriftType, found: header.elementType)
        }
        elements.removeAll(keepingCapacity: true)
        elements.reserveCapacity(header.count)
        for _ in 0..<header.count { elements.append(try E.read(from: &self)) }
        readListEnd()
    }

    /// Reads a set into `elements`, replacing what they were and keeping the set's storage.
    @inlinable
    public mutating func readSet<E: ThriftElement & Hashable>(into elements: inout Set<E>) throws(ThriftError) {
        let count = try readSetBegin(of: E.self)
        elements.removeAll(keepingCapacity: true)
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.insert(try E.read(from: &self)) }
        readSetEnd()
    }

    /// Reads a map into `map`, replacing what it held and keeping the dictionary's storage; a
    /// repeated key keeps the last value.
    @inlinable
    public mutating func readMap<K: ThriftElement & Hashable, V: ThriftElement>(into map: inout [K: V]) throws(ThriftError) {
        let header = try readMapBegin()
        guard header.count == 0 || (header.keyType == K.thriftType && header.valueType == V.thriftType) else {
            throw mismatch("map", expected: K.thriftType, found: header.keyType)
        }
        map.removeAll(keepingCapacity: true)
        map.reserveCapacity(header.count)
        for _ in 0..<header.count {
            let key = try K.read(from: &self)
            map[key] = try V.read(from: &self)
        }
        readMapEnd()
    }

    /// Reads a map into a dictionary; a repeated key keeps the last value, as Apache's readers do.
    @inlinable
    public mutating func readMap<K: ThriftElement & Hashable, V: ThriftElement>(
        of _: K.Type, _: V.Type
    ) throws(ThriftError) -> [K: V] {
        var map: [K: V] = [:]
        try readMap(into: &map)
        return map
    }
}

extension ThriftProtocolWriter {
    @inlinable
    public mutating func writeList<C: Collection>(_ elements: C) throws(ThriftError) where C.Element: ThriftElement {
        try writeListBegin(C.Element.thriftType, count: elements.count)
        try writeElements(of: elements)
    }

    @inlinable
    public mutating func writeSet<C: Collection>(_ elements: C) throws(ThriftError) where C.Element: ThriftElement {
        try writeSetBegin(C.Element.thriftType, count: elements.count)
        try writeElements(of: elements)
    }

    /// A list's or set's elements: numbers in contiguous memory (an array) as one block, where
    /// the protocol has fixed-width numbers; anything else one by one. The type tests fold away
    /// in specialized code.
    @inlinable
    mutating func writeElements<C: Collection>(of elements: C) throws(ThriftError) where C.Element: ThriftElement {
        let type = C.Element.self
        if type == Int64.self || type == Int32.self || type == Int16.self || type == Double.self {
            var failure: ThriftError?
            let written = elements.withContiguousStorageIfAvailable { buffer -> Bool in
                do throws(ThriftError) {
                    if type == Int64.self {
                        try buffer.withMemoryRebound(to: Int64.self) { numbers throws(ThriftError) in try writeElements(numbers) }
                    } else if type == Int32.self {
                        try buffer.withMemoryRebound(to: Int32.self) { numbers throws(ThriftError) in try writeElements(numbers) }
                    } else if type == Int16.self {
                        try buffer.withMemoryRebound(to: Int16.self) { numbers throws(ThriftError) in try writeElements(numbers) }
                    } else {
                        try buffer.withMemoryRebound(to: Double.self) { numbers throws(ThriftError) in try writeElements(numbers) }
                    }
                } catch {
                    failure = error
                }
                return true
            }
            if let failure { throw failure }
            if written == true { return }
        }
        for element in elements { try element.write(to: &self) }
    }

    /// Writes a list left in its input (a view's field) again, element by element.
    @inlinable
    public mutating func writeList<E: ThriftElement>(_ view: ListView<E>) throws(ThriftError) {
        try writeListBegin(E.thriftType, count: view.count)
        for element in view { try element.write(to: &self) }
    }

    @inlinable
    public mutating func writeSet<E: ThriftElement>(_ view: ListView<E>) throws(ThriftError) {
        try writeSetBegin(E.thriftType, count: view.count)
        for element in view { try element.write(to: &self) }
    }

    @inlinable
    public mutating func writeMap<K: ThriftElement, V: ThriftElement>(_ view: MapView<K, V>) throws(ThriftError) {
        try writeMapBegin(keyType: K.thriftType, valueType: V.thriftType, count: view.count)
        for (key, value) in view {
            try key.write(to: &self)
            try value.write(to: &self)
        }
    }

    @inlinable
    public mutating func writeMap<K: ThriftElement, V: ThriftElement>(_ map: [K: V]) throws(ThriftError) {
        try writeMapBegin(keyType: K.thriftType, valueType: V.thriftType, count: map.count)
        for (key, value) in map {
            try key.write(to: &self)
            try value.write(to: &self)
        }
    }
}
