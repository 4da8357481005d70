/// A Thrift wire type, numbered as in the binary protocol
/// (apache/thrift doc/specs/thrift-binary-protocol.md). The compact protocol
/// maps its own type nibbles onto these.
///
/// A struct over the wire byte rather than an enum: the byte read from the
/// wire *is* the value, with no table lookup to convert it on every field.
public struct ThriftType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8

    @inlinable @inline(__always)
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The type a wire byte names, or nil when it names none (or stop).
    @inlinable @inline(__always)
    public init?(validating byte: UInt8) {
        // Bits set at 2, 3, 4, 6, 8, 10...16.
        guard byte < 17, (0x1_FD5C as UInt32) >> byte & 1 == 1 else { return nil }
        self.rawValue = byte
    }

    @inlinable public static var stop: ThriftType { ThriftType(rawValue: 0) }
    @inlinable public static var bool: ThriftType { ThriftType(rawValue: 2) }
    @inlinable public static var i8: ThriftType { ThriftType(rawValue: 3) }
    @inlinable public static var double: ThriftType { ThriftType(rawValue: 4) }
    @inlinable public static var i16: ThriftType { ThriftType(rawValue: 6) }
    @inlinable public static var i32: ThriftType { ThriftType(rawValue: 8) }
    @inlinable public static var i64: ThriftType { ThriftType(rawValue: 10) }
    @inlinable public static var string: ThriftType { ThriftType(rawValue: 11) }
    @inlinable public static var `struct`: ThriftType { ThriftType(rawValue: 12) }
    @inlinable public static var map: ThriftType { ThriftType(rawValue: 13) }
    @inlinable public static var set: ThriftType { ThriftType(rawValue: 14) }
    @inlinable public static var list: ThriftType { ThriftType(rawValue: 15) }
    @inlinable public static var uuid: ThriftType { ThriftType(rawValue: 16) }

    /// The name `apus dump` and error messages use.
    public var description: String {
        switch rawValue {
        case 0: "stop"
        case 2: "bool"
        case 3: "i8"
        case 4: "double"
        case 6: "i16"
        case 8: "i32"
        case 10: "i64"
        case 11: "string"
        case 12: "struct"
        case 13: "map"
        case 14: "set"
        case 15: "list"
        case 16: "uuid"
        default: "type \(rawValue)"
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
