/// A view of a UDP datagram (RFC 768).
///
/// The initializer checks the 8-byte header and the length field (at
/// least 8, at most the bytes given); the view is bounded by the length
/// field, so trailing bytes are never mistaken for payload.
public struct UDPDatagram {
    @usableFromInline enum Field {
        @inlinable static var sourcePort: Range<Int> { 0..<2 }
        @inlinable static var destinationPort: Range<Int> { 2..<4 }
        @inlinable static var length: Range<Int> { 4..<6 }
        @inlinable static var checksum: Range<Int> { 6..<8 }
    }

    @inlinable public static var headerLength: Int { 8 }

    /// Header and payload, `length` bytes.
    public let bytes: UnsafeRawBufferPointer

    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= Self.headerLength else { throw WireError(.truncated, .udp, "shorter than header") }
        let length = Int(bytes.bigEndian(Field.length, as: UInt16.self))
        guard length >= Self.headerLength else { throw WireError(.malformed, .udp, "length below 8") }
        guard length <= bytes.count else { throw WireError(.truncated, .udp, "shorter than length field") }
        self.bytes = bytes.slice(0..<length)
    }

    @inlinable public var sourcePort: UInt16 { bytes.bigEndian(Field.sourcePort) }
    @inlinable public var destinationPort: UInt16 { bytes.bigEndian(Field.destinationPort) }
    /// The length field: header plus payload.
    @inlinable public var length: Int { bytes.count }
    @inlinable public var checksum: UInt16 { bytes.bigEndian(Field.checksum) }

    @inlinable public var payloadRange: Range<Int> { Self.headerLength..<bytes.count }
    @inlinable public var payload: UnsafeRawBufferPointer { bytes.slice(payloadRange) }

    /// Throws `badChecksum` unless pseudo-header, header and payload sum to all ones.
    /// A zero checksum field means the sender computed none (RFC 768), which passes.
    @inlinable
    public func verifyChecksum(source: IPv4Address, destination: IPv4Address) throws(WireError) {
        guard checksum != 0 else { return }
        guard InternetChecksum.transport(bytes, source: source, destination: destination, protocol: .udp).isValid else {
            throw WireError(.badChecksum, .udp, "checksum")
        }
    }

    /// Whether the checksum field holds only the pseudo-header sum: a datagram from a local
    /// sender that left the checksum to an offload which never ran (veth, AF_XDP copy mode).
    /// Such a datagram cannot have been corrupted on a wire, but its checksum proves nothing.
    @inlinable
    public func hasPartialChecksum(source: IPv4Address, destination: IPv4Address) -> Bool {
        checksum == InternetChecksum.transportField(
            .pseudoHeaderOnly(source: source, destination: destination), bytes, protocol: .udp)
    }
}

/// The fields of a UDP header, parsed or to be emitted.
public struct UDPRepr: Sendable, Hashable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// Bytes after the 8-byte header.
    public var payloadLength: Int

    @inlinable
    public init(sourcePort: UInt16, destinationPort: UInt16, payloadLength: Int) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.payloadLength = payloadLength
    }

    @inlinable
    public init(parsing datagram: UDPDatagram) {
        self.init(sourcePort: datagram.sourcePort, destinationPort: datagram.destinationPort,
                  payloadLength: datagram.payloadRange.count)
    }

    @inlinable public var headerLength: Int { UDPDatagram.headerLength }
    /// Header plus payload: the length field.
    @inlinable public var bufferLength: Int { headerLength + payloadLength }

    /// Writes the header at the start of `buffer`, whose next `payloadLength` bytes must already
    /// hold the payload when `checksum` is `.compute`. A computed checksum of zero is sent as
    /// 0xFFFF, since zero means "none" (RFC 768).
    @inlinable
    public func emit(into buffer: UnsafeMutableRawBufferPointer, checksum: TransportChecksum) throws(WireError) {
        guard payloadLength >= 0 && bufferLength <= Int(UInt16.max) else {
            throw WireError(.malformed, .udp, "length outside 8...65535")
        }
        guard buffer.count >= bufferLength else { throw WireError(.bufferTooSmall, .udp, "no room for datagram") }
        typealias Field = UDPDatagram.Field
        buffer.storeBigEndian(sourcePort, Field.sourcePort)
        buffer.storeBigEndian(destinationPort, Field.destinationPort)
        buffer.storeBigEndian(UInt16(bufferLength), Field.length)
        buffer.storeBigEndian(UInt16(0), Field.checksum)
        var value = InternetChecksum.transportField(
            checksum, UnsafeRawBufferPointer(buffer.slice(0..<bufferLength)), protocol: .udp)
        // A computed sum of zero is sent as all ones: zero means "no checksum" (RFC 768).
        switch checksum {
        case .compute, .computeWithPayloadSum: if value == 0 { value = 0xFFFF }
        case .pseudoHeaderOnly, .zero: break
        }
        buffer.storeBigEndian(value, Field.checksum)
    }
}
