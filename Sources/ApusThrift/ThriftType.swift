/// A Thrift wire type, numbered as in the binary protocol
/// (apache/thrift doc/specs/thrift-binary-protocol.md). The compact protocol
/// maps its own type nibbles onto these.
public enum ThriftType: UInt8, Sendable, Hashable, CustomStringConvertible {
    case stop = 0
    case bool = 2
    case i8 = 3
    case double = 4
    case i16 = 6
    case i32 = 8
    case i64 = 10
    case string = 11
    case `struct` = 12
    case map = 13
    case set = 14
    case list = 15
    case uuid = 16

    /// The name `apus dump` and error messages use.
    public var description: String {
        switch self {
        case .stop: "stop"
        case .bool: "bool"
        case .i8: "i8"
        case .double: "double"
        case .i16: "i16"
        case .i32: "i32"
        case .i64: "i64"
        case .string: "string"
        case .struct: "struct"
        case .map: "map"
        case .set: "set"
        case .list: "list"
        case .uuid: "uuid"
        }
    }
}

/// The kind of a Thrift message (the envelope's type field).
public enum MessageType: UInt8, Sendable, Hashable, CustomStringConvertible {
    case call = 1
    case reply = 2
    case exception = 3
    case oneway = 4

    public var description: String {
        switch self {
        case .call: "call"
        case .reply: "reply"
        case .exception: "exception"
        case .oneway: "oneway"
        }
    }
}

/// The two Thrift protocols Apus speaks.
public enum ThriftProtocolID: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case binary
    case compact

    public var description: String { rawValue }

    /// Identifies the protocol from the first byte of a message: `0x80`
    /// (strict binary header) or `0x00` (old binary header: the high byte of
    /// a name length) is binary, `0x82` is compact. Anything else is not Thrift.
    @inlinable
    public init?(sniffing firstByte: UInt8) {
        switch firstByte {
        case 0x80, 0x00: self = .binary
        case 0x82: self = .compact
        default: return nil
        }
    }
}

/// How messages are delimited on a byte stream.
public enum ThriftFraming: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A 4-byte big-endian length precedes every message (TFramedTransport).
    case framed
    /// Messages follow each other with no length; their end is found by
    /// walking the message (TBufferedTransport).
    case buffered

    public var description: String { rawValue }
}
