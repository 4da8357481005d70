/// A view of a TCP segment (RFC 9293 §3.1): header, options, payload.
///
/// The initializer checks the fixed header and the data offset (at least 5
/// words, within the segment). Options are left as bytes until
/// `TCPOptions(parsing:)` or `TCPRepr(parsing:)` reads them, so a stack
/// that only needs ports (to find the connection) does not pay for them.
public struct TCPSegment {
    @usableFromInline enum Field {
        @inlinable static var sourcePort: Range<Int> { 0..<2 }
        @inlinable static var destinationPort: Range<Int> { 2..<4 }
        @inlinable static var sequenceNumber: Range<Int> { 4..<8 }
        @inlinable static var acknowledgmentNumber: Range<Int> { 8..<12 }
        /// Data offset in the upper four bits; the rest are reserved (and AE, RFC 9768).
        @inlinable static var dataOffset: Int { 12 }
        @inlinable static var flags: Int { 13 }
        @inlinable static var windowSize: Range<Int> { 14..<16 }
        @inlinable static var checksum: Range<Int> { 16..<18 }
        @inlinable static var urgentPointer: Range<Int> { 18..<20 }
    }

    /// Header length without options.
    @inlinable public static var minimumHeaderLength: Int { 20 }
    /// The longest header a 4-bit data offset can express.
    @inlinable public static var maximumHeaderLength: Int { 60 }

    /// The whole segment (the IPv4 payload).
    public let bytes: UnsafeRawBufferPointer

    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= Self.minimumHeaderLength else { throw WireError(.truncated, .tcp, "shorter than header") }
        let headerLength = Int(bytes[Field.dataOffset] >> 4) * 4
        guard headerLength >= Self.minimumHeaderLength else { throw WireError(.malformed, .tcp, "data offset below 5") }
        guard headerLength <= bytes.count else { throw WireError(.truncated, .tcp, "shorter than data offset") }
        self.bytes = bytes
    }

    @inlinable public var sourcePort: UInt16 { bytes.bigEndian(Field.sourcePort) }
    @inlinable public var destinationPort: UInt16 { bytes.bigEndian(Field.destinationPort) }
    @inlinable public var sequenceNumber: SequenceNumber { SequenceNumber(bytes.bigEndian(Field.sequenceNumber)) }
    @inlinable public var acknowledgmentNumber: SequenceNumber { SequenceNumber(bytes.bigEndian(Field.acknowledgmentNumber)) }
    /// Data offset × 4: 20 to 60.
    @inlinable public var headerLength: Int { Int(bytes[Field.dataOffset] >> 4) * 4 }
    @inlinable public var flags: TCPFlags { TCPFlags(rawValue: bytes[Field.flags]) }
    /// The window as sent, before the connection's window scale is applied (RFC 7323 §2.2);
    /// never scaled in a SYN.
    @inlinable public var windowSize: UInt16 { bytes.bigEndian(Field.windowSize) }
    @inlinable public var checksum: UInt16 { bytes.bigEndian(Field.checksum) }
    @inlinable public var urgentPointer: UInt16 { bytes.bigEndian(Field.urgentPointer) }

    /// The raw options, for `TCPOptions(parsing:)`.
    @inlinable public var optionBytes: UnsafeRawBufferPointer { bytes.slice(Self.minimumHeaderLength..<headerLength) }

    /// Where the payload starts and ends within `bytes`.
    @inlinable public var payloadRange: Range<Int> { headerLength..<bytes.count }
    @inlinable public var payload: UnsafeRawBufferPointer { bytes.slice(payloadRange) }

    /// SEG.LEN (RFC 9293 §3.4): payload octets plus one each for SYN and FIN, which occupy
    /// sequence space.
    @inlinable
    public var segmentLength: Int {
        let control = flags
        return payloadRange.count + (control.contains(.syn) ? 1 : 0) + (control.contains(.fin) ? 1 : 0)
    }

    /// Throws `badChecksum` unless pseudo-header, header and payload sum to all ones
    /// (RFC 9293 §3.1). There is no "no checksum" value in TCP.
    @inlinable
    public func verifyChecksum(source: IPv4Address, destination: IPv4Address) throws(WireError) {
        guard InternetChecksum.transport(bytes, source: source, destination: destination, protocol: .tcp).isValid else {
            throw WireError(.badChecksum, .tcp, "checksum")
        }
    }

    /// Whether the checksum field holds only the pseudo-header sum: a segment from a local
    /// sender that left the checksum to an offload which never ran (veth, AF_XDP copy mode).
    @inlinable
    public func hasPartialChecksum(source: IPv4Address, destination: IPv4Address) -> Bool {
        checksum == InternetChecksum.transportField(
            .pseudoHeaderOnly(source: source, destination: destination), bytes, protocol: .tcp)
    }
}

/// The fields of a TCP segment's header, parsed or to be emitted.
///
/// `payloadLength` travels with the header because sequence-space arithmetic
/// needs it (`segmentLength`); the payload bytes themselves stay in the frame,
/// at `headerLength ..< headerLength + payloadLength` of the segment.
public struct TCPRepr: Sendable, Hashable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequenceNumber: SequenceNumber
    /// Meaningful only when `flags` contains `.ack`; emitted as given either way.
    public var acknowledgmentNumber: SequenceNumber
    public var flags: TCPFlags
    /// Unscaled, as on the wire.
    public var windowSize: UInt16
    public var urgentPointer: UInt16
    public var options: TCPOptions
    public var payloadLength: Int

    @inlinable
    public init(sourcePort: UInt16, destinationPort: UInt16, sequenceNumber: SequenceNumber,
                acknowledgmentNumber: SequenceNumber = SequenceNumber(0), flags: TCPFlags, windowSize: UInt16,
                urgentPointer: UInt16 = 0, options: TCPOptions = TCPOptions(), payloadLength: Int = 0) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequenceNumber = sequenceNumber
        self.acknowledgmentNumber = acknowledgmentNumber
        self.flags = flags
        self.windowSize = windowSize
        self.urgentPointer = urgentPointer
        self.options = options
        self.payloadLength = payloadLength
    }

    /// Reads the header and its options; throws `malformed` for illegal option lengths.
    @inlinable
    public init(parsing segment: TCPSegment) throws(WireError) {
        self.init(sourcePort: segment.sourcePort, destinationPort: segment.destinationPort,
                  sequenceNumber: segment.sequenceNumber, acknowledgmentNumber: segment.acknowledgmentNumber,
                  flags: segment.flags, windowSize: segment.windowSize, urgentPointer: segment.urgentPointer,
                  options: try TCPOptions(parsing: segment.optionBytes),
                  payloadLength: segment.payloadRange.count)
    }

    /// 20 plus the options, padded to 4: where the payload starts.
    @inlinable public var headerLength: Int { TCPSegment.minimumHeaderLength + options.encodedLength }
    /// Header plus payload: the IPv4 payload length.
    @inlinable public var bufferLength: Int { headerLength + payloadLength }

    /// SEG.LEN (RFC 9293 §3.4): payload plus SYN and FIN.
    @inlinable
    public var segmentLength: Int {
        payloadLength + (flags.contains(.syn) ? 1 : 0) + (flags.contains(.fin) ? 1 : 0)
    }

    /// Writes the header and options at the start of `buffer`, whose next `payloadLength`
    /// bytes must already hold the payload when `checksum` is `.compute` (encode the payload
    /// at `headerLength` first, then emit). Throws `malformed` when the options exceed 40
    /// bytes (with timestamps, window scale and MSS at most two SACK blocks fit; with
    /// timestamps alone, three) and `bufferTooSmall` when the segment does not fit.
    @inlinable
    public func emit(into buffer: UnsafeMutableRawBufferPointer, checksum: TransportChecksum) throws(WireError) {
        let optionsLength = options.encodedLength
        guard optionsLength <= TCPOptions.maximumLength else {
            throw WireError(.malformed, .tcp, "options longer than 40 bytes")
        }
        let headerLength = TCPSegment.minimumHeaderLength + optionsLength
        let bufferLength = headerLength + payloadLength
        guard payloadLength >= 0 && bufferLength <= Int(UInt16.max) else {
            throw WireError(.malformed, .tcp, "segment length outside 20...65535")
        }
        guard buffer.count >= bufferLength else { throw WireError(.bufferTooSmall, .tcp, "no room for segment") }
        typealias Field = TCPSegment.Field
        buffer.storeBigEndian(sourcePort, Field.sourcePort)
        buffer.storeBigEndian(destinationPort, Field.destinationPort)
        buffer.storeBigEndian(sequenceNumber.rawValue, Field.sequenceNumber)
        buffer.storeBigEndian(acknowledgmentNumber.rawValue, Field.acknowledgmentNumber)
        buffer[Field.dataOffset] = UInt8(headerLength / 4) << 4
        buffer[Field.flags] = flags.rawValue
        buffer.storeBigEndian(windowSize, Field.windowSize)
        buffer.storeBigEndian(UInt16(0), Field.checksum)
        buffer.storeBigEndian(urgentPointer, Field.urgentPointer)
        options.emit(into: buffer.slice(TCPSegment.minimumHeaderLength..<headerLength))
        let value = InternetChecksum.transportField(
            checksum, UnsafeRawBufferPointer(buffer.slice(0..<bufferLength)), protocol: .tcp)
        buffer.storeBigEndian(value, Field.checksum)
    }
}
