// Examples/echo.thrift: types. Written by hand in exactly the shape
// `apus gen` will emit; the generator must reproduce this file.
import ApusRPC
import ApusThrift

public struct Item: Sendable, Hashable {
    public var id: Int64
    public var title: String
    public var extra: [String: String]?

    public init(id: Int64 = 0, title: String = "", extra: [String: String]? = nil) {
        self.id = id
        self.title = title
        self.extra = extra
    }
}

extension Item: ThriftMessageBody, ThriftDecodable, ThriftElement {
    @inlinable
    public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
        let token = writer.writeStructBegin()
        try writer.writeFieldBegin(.i64, id: 1)
        try writer.writeI64(id)
        try writer.writeFieldBegin(.string, id: 2)
        try writer.writeString(title)
        if let extra {
            try writer.writeFieldBegin(.map, id: 3)
            try writer.writeMap(extra)
        }
        try writer.writeFieldStop()
        writer.writeStructEnd(token)
    }

    @inlinable
    public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
        self.init()
        var isSet: (id: Bool, title: Bool) = (false, false)
        let token = try reader.readStructBegin()
        while true {
            let field = try reader.readFieldBegin()
            switch (field.id, field.type) {
            case (_, .stop):
                reader.readStructEnd(token)
                guard isSet.id else { throw reader.error(.missingRequiredField, fieldID: 1, detail: "Item.id is required") }
                guard isSet.title else { throw reader.error(.missingRequiredField, fieldID: 2, detail: "Item.title is required") }
                return
            case (1, .i64): id = try reader.readI64(); isSet.id = true
            case (2, .string): title = try reader.readString(); isSet.title = true
            case (3, .map): extra = try reader.readMap(of: String.self, String.self)
            default: try reader.skip(field.type)
            }
        }
    }
}

public struct NotFound: Error, Sendable, Hashable {
    public var key: String

    public init(key: String = "") {
        self.key = key
    }
}

extension NotFound: ThriftMessageBody, ThriftDecodable, ThriftElement {
    @inlinable
    public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
        let token = writer.writeStructBegin()
        try writer.writeFieldBegin(.string, id: 1)
        try writer.writeString(key)
        try writer.writeFieldStop()
        writer.writeStructEnd(token)
    }

    @inlinable
    public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
        self.init()
        let token = try reader.readStructBegin()
        while true {
            let field = try reader.readFieldBegin()
            switch (field.id, field.type) {
            case (_, .stop):
                reader.readStructEnd(token)
                return
            case (1, .string): key = try reader.readString()
            default: try reader.skip(field.type)
            }
        }
    }
}
