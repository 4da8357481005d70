/// The ICMP message type (RFC 792; IANA "ICMP Type Numbers").
public struct ICMPv4Type: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let echoReply = ICMPv4Type(rawValue: 0)
    public static let destinationUnreachable = ICMPv4Type(rawValue: 3)
    public static let echoRequest = ICMPv4Type(rawValue: 8)
    public static let timeExceeded = ICMPv4Type(rawValue: 11)

    public var description: String {
        switch self {
        case .echoReply: "echo reply"
        case .destinationUnreachable: "destination unreachable"
        case .echoRequest: "echo request"
        case .timeExceeded: "time exceeded"
        default: "type \(rawValue)"
        }
    }
}

/// A view of an ICMPv4 message (RFC 792). Every message has the same
/// 8-byte header: type, code, checksum and four type-specific bytes, which
/// for echo are the identifier and sequence number.
public struct ICMPv4Packet {
    @usableFromInline enum Field {
        @inlinable static var type: Int { 0 }
        @inlinable static var code: Int { 1 }
        @inlinable static var checksum: Range<Int> { 2..<4 }
        @inlinable static var identifier: Range<Int> { 4..<6 }
        @inlinable static var sequenceNumber: Range<Int> { 6..<8 }
    }

    @inlinable public static var headerLength: Int { 8 }

    /// The whole message, header and data (the IPv4 payload).
    public let bytes: UnsafeRawBufferPointer

    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= Self.headerLength else { throw WireError(.truncated, .icmp, "shorter than header") }
        self.bytes = bytes
    }

    @inlinable public var type: ICMPv4Type { ICMPv4Type(rawValue: bytes[Field.type]) }
    @inlinable public var code: UInt8 { bytes[Field.code] }
    @inlinable public var checksum: UInt16 { bytes.bigEndian(Field.checksum) }
    /// Echo identifier; for other types, the high half of the "rest of header" word.
    @inlinable public var identifier: UInt16 { bytes.bigEndian(Field.identifier) }
    /// Echo sequence number; for other types, the low half of the "rest of header" word.
    @inlinable public var sequenceNumber: UInt16 { bytes.bigEndian(Field.sequenceNumber) }

    @inlinable public var payloadRange: Range<Int> { Self.headerLength..<bytes.count }
    /// The echo data (which a reply must return unchanged), or the quoted datagram of an error.
    @inlinable public var payload: UnsafeRawBufferPointer { bytes.slice(payloadRange) }

    /// Throws `badChecksum` unless the message (header and data) sums to all ones. ICMP has no
    /// pseudo-header (RFC 792, "Checksum").
    @inlinable
    public func verifyChecksum() throws(WireError) {
        var checksum = InternetChecksum()
        checksum.add(bytes)
        guard checksum.isValid else { throw WireError(.badChecksum, .icmp, "message checksum") }
    }
}

/// An ICMP echo request or reply (RFC 792, "Echo or Echo Reply Message"),
/// the one ICMP exchange Apus answers.
public struct ICMPv4Repr: Sendable, Hashable {
    /// `.echoRequest` or `.echoReply`.
    public var type: ICMPv4Type
    public var identifier: UInt16
    public var sequenceNumber: UInt16
    /// Bytes of echo data after the 8-byte header.
    public var payloadLength: Int

    @inlinable
    public init(type: ICMPv4Type, identifier: UInt16, sequenceNumber: UInt16, payloadLength: Int) {
        self.type = type
        self.identifier = identifier
        self.sequenceNumber = sequenceNumber
        self.payloadLength = payloadLength
    }

    /// Echo messages with code 0 parse; anything else is `unsupported`, for the stack to count.
    @inlinable
    public init(parsing packet: ICMPv4Packet) throws(WireError) {
        guard packet.type == .echoRequest || packet.type == .echoReply else {
            throw WireError(.unsupported, .icmp, "not an echo message")
        }
        guard packet.code == 0 else { throw WireError(.malformed, .icmp, "echo code is not 0") }
        self.init(type: packet.type, identifier: packet.identifier, sequenceNumber: packet.sequenceNumber,
                  payloadLength: packet.payloadRange.count)
    }

    /// The reply RFC 792 asks for: same identifier, sequence number and data.
    @inlinable
    public var reply: ICMPv4Repr {
        ICMPv4Repr(type: .echoReply, identifier: identifier, sequenceNumber: sequenceNumber, payloadLength: payloadLength)
    }

    @inlinable public var headerLength: Int { ICMPv4Packet.headerLength }
    @inlinable public var bufferLength: Int { headerLength + payloadLength }

    /// Writes the header at the start of `buffer` and computes the checksum over it and the
    /// `payloadLength` data bytes that must already follow it (an echo reply built in the
    /// request's own frame has them there already).
    @inlinable
    public func emit(into buffer: UnsafeMutableRawBufferPointer) throws(WireError) {
        guard type == .echoRequest || type == .echoReply else {
            throw WireError(.unsupported, .icmp, "not an echo message")
        }
        guard payloadLength >= 0 else { throw WireError(.malformed, .icmp, "negative payload length") }
        guard buffer.count >= bufferLength else { throw WireError(.bufferTooSmall, .icmp, "no room for message") }
        typealias Field = ICMPv4Packet.Field
        buffer[Field.type] = type.rawValue
        buffer[Field.code] = 0
        buffer.storeBigEndian(UInt16(0), Field.checksum)
        buffer.storeBigEndian(identifier, Field.identifier)
        buffer.storeBigEndian(sequenceNumber, Field.sequenceNumber)
        let checksum = InternetChecksum.checksum(UnsafeRawBufferPointer(buffer.slice(0..<bufferLength)))
        buffer.storeBigEndian(checksum, Field.checksum)
    }
}
