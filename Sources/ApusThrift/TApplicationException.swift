/// The error a Thrift server sends in an EXCEPTION message when the call
/// itself failed (unknown method, bad arguments, handler crash), as opposed
/// to exceptions the IDL declares. Wire layout: field 1 message (string),
/// field 2 type (i32).
public struct TApplicationException: Error, Sendable, Hashable, ThriftCodable, CustomStringConvertible {
    /// The `type` field. A struct over the raw value so unknown codes from
    /// newer peers survive a round trip.
    public struct Kind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let unknown = Kind(rawValue: 0)
        public static let unknownMethod = Kind(rawValue: 1)
        public static let invalidMessageType = Kind(rawValue: 2)
        public static let wrongMethodName = Kind(rawValue: 3)
        public static let badSequenceID = Kind(rawValue: 4)
        public static let missingResult = Kind(rawValue: 5)
        public static let internalError = Kind(rawValue: 6)
        public static let protocolError = Kind(rawValue: 7)
        public static let invalidTransform = Kind(rawValue: 8)
        public static let invalidProtocol = Kind(rawValue: 9)
        public static let unsupportedClientType = Kind(rawValue: 10)

        public var description: String {
            switch rawValue {
            case 0: "unknown"
            case 1: "unknown method"
            case 2: "invalid message type"
            case 3: "wrong method name"
            case 4: "bad sequence id"
            case 5: "missing result"
            case 6: "internal error"
            case 7: "protocol error"
            case 8: "invalid transform"
            case 9: "invalid protocol"
            case 10: "unsupported client type"
            default: "type \(rawValue)"
            }
        }
    }

    public var message: String
    public var kind: Kind

    public init(_ kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "TApplicationException(\(kind)): \(message)" }

    @inlinable
    public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
        let token = writer.writeStructBegin()
        try writer.writeFieldBegin(.string, id: 1)
        try writer.writeString(message)
        try writer.writeFieldBegin(.i32, id: 2)
        try writer.writeI32(kind.rawValue)
        try writer.writeFieldStop()
        writer.writeStructEnd(token)
    }

    public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
        var message = ""
        var kind = Kind.unknown
        let token = try reader.readStructBegin()
        while true {
            let field = try reader.readFieldBegin()
            switch (field.id, field.type) {
            case (_, .stop):
                reader.readStructEnd(token)
                self.init(kind, message: message)
                return
            case (1, .string): message = try reader.readString()
            case (2, .i32): kind = Kind(rawValue: try reader.readI32())
            default: try reader.skip(field.type)
            }
        }
    }
}
