/// Any Thrift value, read without a schema: what `apus dump` prints and
/// what tools use to inspect or rewrite messages. Strings and binaries are
/// one wire type; `.binary` holds their bytes.
public indirect enum ThriftValue: Sendable, Hashable {
    case bool(Bool)
    case i8(Int8)
    case i16(Int16)
    case i32(Int32)
    case i64(Int64)
    case double(Double)
    case binary([UInt8])
    case uuid(ThriftUUID)
    case `struct`([ThriftField])
    case list(ThriftType, [ThriftValue])
    case set(ThriftType, [ThriftValue])
    case map(key: ThriftType, value: ThriftType, [ThriftMapEntry])

    /// The wire type of this value.
    public var type: ThriftType {
        switch self {
        case .bool: .bool
        case .i8: .i8
        case .i16: .i16
        case .i32: .i32
        case .i64: .i64
        case .double: .double
        case .binary: .string
        case .uuid: .uuid
        case .struct: .struct
        case .list: .list
        case .set: .set
        case .map: .map
        }
    }

    /// A string value from text.
    public static func string(_ text: String) -> ThriftValue { .binary(Array(text.utf8)) }

    /// Reads one value of `type`, copying strings out of the input.
    public init<Reader: ThriftProtocolReader>(reading type: ThriftType, from reader: inout Reader) throws(ThriftError) {
        switch type {
        case .bool: self = .bool(try reader.readBool())
        case .i8: self = .i8(try reader.readI8())
        case .i16: self = .i16(try reader.readI16())
        case .i32: self = .i32(try reader.readI32())
        case .i64: self = .i64(try reader.readI64())
        case .double: self = .double(try reader.readDouble())
        case .string: self = .binary(try reader.readBinary().bytes)
        case .uuid: self = .uuid(try reader.readUUID())
        case .struct:
            let token = try reader.readStructBegin()
            var fields: [ThriftField] = []
            while true {
                let header = try reader.readFieldBegin()
                if header.type == .stop { break }
                do throws(ThriftError) {
                    fields.append(ThriftField(id: header.id, value: try ThriftValue(reading: header.type, from: &reader)))
                } catch {
                    var error = error
                    if error.fieldID == nil { error.fieldID = header.id }
                    throw error
                }
            }
            reader.readStructEnd(token)
            self = .struct(fields)
        case .list, .set:
            let header = type == .list ? try reader.readListBegin() : try reader.readSetBegin()
            var elements: [ThriftValue] = []
            elements.reserveCapacity(header.count)
            for _ in 0..<header.count {
                elements.append(try ThriftValue(reading: header.elementType, from: &reader))
            }
            if type == .list {
                reader.readListEnd()
                self = .list(header.elementType, elements)
            } else {
                reader.readSetEnd()
                self = .set(header.elementType, elements)
            }
        case .map:
            let header = try reader.readMapBegin()
            var entries: [ThriftMapEntry] = []
            entries.reserveCapacity(header.count)
            for _ in 0..<header.count {
                let key = try ThriftValue(reading: header.keyType, from: &reader)
                let value = try ThriftValue(reading: header.valueType, from: &reader)
                entries.append(ThriftMapEntry(key: key, value: value))
            }
            reader.readMapEnd()
            self = .map(key: header.keyType, value: header.valueType, entries)
        default:
            throw reader.error(.invalidType, fieldID: nil, detail: "no value has \(type)")
        }
    }

    /// Writes this value (for a struct: its fields and the stop byte).
    public func write<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
        switch self {
        case .bool(let value): try writer.writeBool(value)
        case .i8(let value): try writer.writeI8(value)
        case .i16(let value): try writer.writeI16(value)
        case .i32(let value): try writer.writeI32(value)
        case .i64(let value): try writer.writeI64(value)
        case .double(let value): try writer.writeDouble(value)
        case .binary(let value): try writer.writeBinary(value)
        case .uuid(let value): try writer.writeUUID(value)
        case .struct(let fields):
            let token = writer.writeStructBegin()
            for field in fields {
                try writer.writeFieldBegin(field.value.type, id: field.id)
                try field.value.write(to: &writer)
            }
            try writer.writeFieldStop()
            writer.writeStructEnd(token)
        case .list(let elementType, let elements), .set(let elementType, let elements):
            if case .list = self {
                try writer.writeListBegin(elementType, count: elements.count)
            } else {
                try writer.writeSetBegin(elementType, count: elements.count)
            }
            for element in elements { try element.write(to: &writer) }
        case .map(let keyType, let valueType, let entries):
            try writer.writeMapBegin(keyType: keyType, valueType: valueType, count: entries.count)
            for entry in entries {
                try entry.key.write(to: &writer)
                try entry.value.write(to: &writer)
            }
        }
    }
}

extension ThriftValue: ThriftEncodable {
    public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
        try write(to: &writer)
    }
}

/// A struct member of a `ThriftValue.struct`: wire order is kept.
public struct ThriftField: Sendable, Hashable {
    public var id: Int16
    public var value: ThriftValue

    public init(id: Int16, value: ThriftValue) {
        self.id = id
        self.value = value
    }
}

/// A key/value pair of a `ThriftValue.map`: wire order is kept.
public struct ThriftMapEntry: Sendable, Hashable {
    public var key: ThriftValue
    public var value: ThriftValue

    public init(key: ThriftValue, value: ThriftValue) {
        self.key = key
        self.value = value
    }
}
