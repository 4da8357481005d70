/// A view of an IPv4 packet (RFC 791 §3.1).
///
/// The initializer applies every length rule once: version 4, IHL ≥ 5, the
/// header within the bytes, total length covering the header and within the
/// bytes. The view is then bounded by the total length, not by the frame,
/// because Ethernet pads short frames to 60 bytes and the padding is not
/// payload. Options are kept as raw bytes and otherwise ignored.
public struct IPv4Packet {
    @usableFromInline enum Field {
        @inlinable static var versionAndHeaderLength: Int { 0 }
        @inlinable static var differentiatedServices: Int { 1 }
        @inlinable static var totalLength: Range<Int> { 2..<4 }
        @inlinable static var identification: Range<Int> { 4..<6 }
        @inlinable static var flagsAndFragmentOffset: Range<Int> { 6..<8 }
        @inlinable static var timeToLive: Int { 8 }
        @inlinable static var `protocol`: Int { 9 }
        @inlinable static var headerChecksum: Range<Int> { 10..<12 }
        @inlinable static var source: Range<Int> { 12..<16 }
        @inlinable static var destination: Range<Int> { 16..<20 }
    }

    @usableFromInline enum Flag {
        @inlinable static var dontFragment: UInt16 { 0x4000 }
        @inlinable static var moreFragments: UInt16 { 0x2000 }
        @inlinable static var fragmentOffsetMask: UInt16 { 0x1FFF }
    }

    /// Header length without options.
    @inlinable public static var minimumHeaderLength: Int { 20 }

    /// The packet: header and payload, `totalLength` bytes.
    public let bytes: UnsafeRawBufferPointer

    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= Self.minimumHeaderLength else { throw WireError(.truncated, .ipv4, "shorter than header") }
        let versionAndHeaderLength = bytes[Field.versionAndHeaderLength]
        guard versionAndHeaderLength >> 4 == 4 else { throw WireError(.malformed, .ipv4, "version is not 4") }
        let headerLength = Int(versionAndHeaderLength & 0x0F) * 4
        guard headerLength >= Self.minimumHeaderLength else { throw WireError(.malformed, .ipv4, "IHL below 5") }
        guard headerLength <= bytes.count else { throw WireError(.truncated, .ipv4, "shorter than IHL") }
        let totalLength = Int(bytes.bigEndian(Field.totalLength, as: UInt16.self))
        guard totalLength >= headerLength else { throw WireError(.malformed, .ipv4, "total length below IHL") }
        guard totalLength <= bytes.count else { throw WireError(.truncated, .ipv4, "shorter than total length") }
        self.bytes = bytes.slice(0..<totalLength)
    }

    /// IHL × 4: 20 to 60.
    @inlinable public var headerLength: Int { Int(bytes[Field.versionAndHeaderLength] & 0x0F) * 4 }
    /// Differentiated Services code point (RFC 2474), the upper six bits of the old TOS byte.
    @inlinable public var dscp: UInt8 { bytes[Field.differentiatedServices] >> 2 }
    /// Explicit Congestion Notification codepoint (RFC 3168 §5), the lower two bits.
    @inlinable public var ecn: UInt8 { bytes[Field.differentiatedServices] & 0x03 }
    @inlinable public var totalLength: Int { bytes.count }
    @inlinable public var identification: UInt16 { bytes.bigEndian(Field.identification) }

    @inlinable
    var flagsAndFragmentOffset: UInt16 { bytes.bigEndian(Field.flagsAndFragmentOffset) }

    @inlinable public var dontFragment: Bool { flagsAndFragmentOffset & Flag.dontFragment != 0 }
    @inlinable public var moreFragments: Bool { flagsAndFragmentOffset & Flag.moreFragments != 0 }
    /// Where this fragment's data sits in the original datagram, in bytes (the field counts 8-byte units).
    @inlinable public var fragmentOffset: Int { Int(flagsAndFragmentOffset & Flag.fragmentOffsetMask) * 8 }

    /// Whether this is a piece of a larger datagram: MF set, or a non-zero offset (the last piece).
    /// Apus does not reassemble (its peers do path MTU discovery with DF set), so the stack
    /// drops and counts these rather than misreading a fragment's first bytes as a transport header.
    @inlinable
    public var isFragment: Bool {
        flagsAndFragmentOffset & (Flag.moreFragments | Flag.fragmentOffsetMask) != 0
    }

    @inlinable public var timeToLive: UInt8 { bytes[Field.timeToLive] }
    @inlinable public var `protocol`: IPProtocol { IPProtocol(rawValue: bytes[Field.protocol]) }
    @inlinable public var headerChecksum: UInt16 { bytes.bigEndian(Field.headerChecksum) }
    @inlinable public var source: IPv4Address { IPv4Address(rawValue: bytes.bigEndian(Field.source)) }
    @inlinable public var destination: IPv4Address { IPv4Address(rawValue: bytes.bigEndian(Field.destination)) }

    /// The raw option bytes (RFC 791 §3.1 "Options"), empty when IHL is 5.
    @inlinable public var options: UnsafeRawBufferPointer { bytes.slice(Self.minimumHeaderLength..<headerLength) }

    /// Where the payload starts and ends within `bytes`.
    @inlinable public var payloadRange: Range<Int> { headerLength..<bytes.count }
    /// The transport payload, bounded by the total length.
    @inlinable public var payload: UnsafeRawBufferPointer { bytes.slice(payloadRange) }

    /// Throws `badChecksum` unless the header (options included) sums to all ones (RFC 791 §3.1,
    /// RFC 1071). Separate from parsing so callers that trust an offload can skip it.
    @inlinable
    public func verifyChecksum() throws(WireError) {
        var checksum = InternetChecksum()
        checksum.add(bytes.slice(0..<headerLength))
        guard checksum.isValid else { throw WireError(.badChecksum, .ipv4, "header checksum") }
    }
}

/// The fields of an IPv4 header that a host stack acts on, parsed or to be emitted.
///
/// Emitted headers are always 20 bytes (no options); parsed options are skipped.
public struct IPv4Repr: Sendable, Hashable {
    public var source: IPv4Address
    public var destination: IPv4Address
    public var `protocol`: IPProtocol
    /// Bytes after the header: the total length minus the header length.
    public var payloadLength: Int
    public var timeToLive: UInt8
    public var dscp: UInt8
    public var ecn: UInt8
    public var identification: UInt16
    /// Set by default: TCP does path MTU discovery (RFC 1191), and Apus never fragments.
    public var dontFragment: Bool

    @inlinable
    public init(source: IPv4Address, destination: IPv4Address, protocol: IPProtocol, payloadLength: Int,
                timeToLive: UInt8 = 64, dscp: UInt8 = 0, ecn: UInt8 = 0, identification: UInt16 = 0,
                dontFragment: Bool = true) {
        self.source = source
        self.destination = destination
        self.protocol = `protocol`
        self.payloadLength = payloadLength
        self.timeToLive = timeToLive
        self.dscp = dscp
        self.ecn = ecn
        self.identification = identification
        self.dontFragment = dontFragment
    }

    /// Fragments are `unsupported`: their payload is not a whole transport segment.
    /// Check `IPv4Packet.isFragment` first to count them separately.
    @inlinable
    public init(parsing packet: IPv4Packet) throws(WireError) {
        guard !packet.isFragment else { throw WireError(.unsupported, .ipv4, "fragment") }
        self.init(source: packet.source, destination: packet.destination, protocol: packet.protocol,
                  payloadLength: packet.payloadRange.count, timeToLive: packet.timeToLive,
                  dscp: packet.dscp, ecn: packet.ecn, identification: packet.identification,
                  dontFragment: packet.dontFragment)
    }

    /// Always 20: Apus emits no IP options.
    @inlinable public var headerLength: Int { IPv4Packet.minimumHeaderLength }
    /// Header plus payload: the total length.
    @inlinable public var bufferLength: Int { headerLength + payloadLength }

    /// Writes the 20-byte header, checksum included, at the start of `buffer`, which must have room
    /// for the payload too (the payload is not touched). The header checksum covers only 20 bytes,
    /// so it is always computed.
    @inlinable
    public func emit(into buffer: UnsafeMutableRawBufferPointer) throws(WireError) {
        guard payloadLength >= 0 && bufferLength <= Int(UInt16.max) else {
            throw WireError(.malformed, .ipv4, "total length outside 20...65535")
        }
        guard buffer.count >= bufferLength else { throw WireError(.bufferTooSmall, .ipv4, "no room for packet") }
        typealias Field = IPv4Packet.Field
        buffer[Field.versionAndHeaderLength] = 0x45
        buffer[Field.differentiatedServices] = dscp << 2 | ecn & 0x03
        buffer.storeBigEndian(UInt16(bufferLength), Field.totalLength)
        buffer.storeBigEndian(identification, Field.identification)
        buffer.storeBigEndian(dontFragment ? IPv4Packet.Flag.dontFragment : 0, Field.flagsAndFragmentOffset)
        buffer[Field.timeToLive] = timeToLive
        buffer[Field.protocol] = `protocol`.rawValue
        buffer.storeBigEndian(UInt16(0), Field.headerChecksum)
        buffer.storeBigEndian(source.rawValue, Field.source)
        buffer.storeBigEndian(destination.rawValue, Field.destination)
        let checksum = InternetChecksum.checksum(UnsafeRawBufferPointer(buffer.slice(0..<headerLength)))
        buffer.storeBigEndian(checksum, Field.headerChecksum)
    }
}
