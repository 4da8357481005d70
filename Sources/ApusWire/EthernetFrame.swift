/// An IEEE 802.1Q tag: priority code point, drop-eligible indicator, VLAN id
/// (the 16-bit TCI that follows the 0x8100 TPID).
public struct VLANTag: Sendable, Hashable, CustomStringConvertible {
    /// The tag control information as on the wire: PCP (3 bits), DEI (1), VID (12).
    public var rawValue: UInt16

    @inlinable
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    @inlinable
    public init(identifier: UInt16, priority: UInt8 = 0, dropEligible: Bool = false) {
        self.rawValue = UInt16(priority & 0x7) << 13 | (dropEligible ? 0x1000 : 0) | (identifier & 0x0FFF)
    }

    /// Priority code point (IEEE 802.1p class of service), 0...7.
    @inlinable public var priority: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 13) }
    @inlinable public var dropEligible: Bool { rawValue & 0x1000 != 0 }
    /// VLAN identifier, 0...4095 (0 means priority-tagged only).
    @inlinable public var identifier: UInt16 { rawValue & 0x0FFF }

    public var description: String { "vlan \(identifier) pcp \(priority)" + (dropEligible ? " dei" : "") }
}

/// A view of an Ethernet II frame (IEEE 802.3 §3.2, with at most one 802.1Q tag),
/// as AF_XDP delivers it: no preamble, no FCS.
///
/// The initializer checks the length and the tag once; afterwards every
/// accessor is a load at a fixed offset and cannot fail.
public struct EthernetFrame {
    @usableFromInline enum Field {
        @inlinable static var destination: Range<Int> { 0..<6 }
        @inlinable static var source: Range<Int> { 6..<12 }
        @inlinable static var etherType: Range<Int> { 12..<14 }
        /// With a tag, the TCI follows the TPID (0x8100) that sits where the EtherType would.
        @inlinable static var vlanControl: Range<Int> { 14..<16 }
        @inlinable static var innerEtherType: Range<Int> { 16..<18 }
    }

    /// Header length without a tag.
    @inlinable public static var headerLength: Int { 14 }
    /// Header length with one 802.1Q tag.
    @inlinable public static var taggedHeaderLength: Int { 18 }
    /// Shortest frame on the wire without FCS (IEEE 802.3 §3.2.9: 64 with FCS). Shorter
    /// payloads are padded, which is why IPv4 trusts its total length, not the frame's.
    @inlinable public static var minimumLength: Int { 60 }

    /// The whole frame.
    public let bytes: UnsafeRawBufferPointer
    /// 14, or 18 when the frame carries an 802.1Q tag.
    public let headerLength: Int

    /// Checks that the frame holds a full header (with its tag, if any).
    ///
    /// A single 802.1Q tag is stepped over; a second tag (QinQ) and IEEE 802.3
    /// length-field frames (type < 0x0600) are `unsupported`: the XDP program
    /// only redirects plain IPv4 and ARP, so anything else is a stray.
    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= Self.headerLength else { throw WireError(.truncated, .ethernet, "shorter than header") }
        var etherType = EtherType(rawValue: bytes.bigEndian(Field.etherType))
        var headerLength = Self.headerLength
        if etherType == .vlan {
            guard bytes.count >= Self.taggedHeaderLength else {
                throw WireError(.truncated, .ethernet, "shorter than 802.1Q header")
            }
            etherType = EtherType(rawValue: bytes.bigEndian(Field.innerEtherType))
            headerLength = Self.taggedHeaderLength
            guard etherType != .vlan && etherType != .qinq else {
                throw WireError(.unsupported, .ethernet, "stacked VLAN tags")
            }
        } else if etherType == .qinq {
            throw WireError(.unsupported, .ethernet, "802.1ad service tag")
        }
        guard etherType.rawValue >= 0x0600 else {
            throw WireError(.unsupported, .ethernet, "802.3 length field, not an EtherType")
        }
        self.bytes = bytes
        self.headerLength = headerLength
    }

    @inlinable public var destination: MACAddress { MACAddress(loading: bytes, at: Field.destination) }
    @inlinable public var source: MACAddress { MACAddress(loading: bytes, at: Field.source) }

    /// The protocol of the payload: the inner type when the frame is tagged.
    @inlinable
    public var etherType: EtherType {
        EtherType(rawValue: bytes.bigEndian(headerLength == Self.headerLength ? Field.etherType : Field.innerEtherType))
    }

    /// The 802.1Q tag, if the frame has one.
    @inlinable
    public var vlanTag: VLANTag? {
        headerLength == Self.headerLength ? nil : VLANTag(rawValue: bytes.bigEndian(Field.vlanControl))
    }

    /// Where the payload starts and ends within `bytes`.
    @inlinable public var payloadRange: Range<Int> { headerLength..<bytes.count }

    /// Everything after the header, including any padding up to 60 bytes; the
    /// network layer bounds it by its own length field.
    @inlinable public var payload: UnsafeRawBufferPointer { bytes.slice(payloadRange) }
}

/// The fields of an Ethernet II header, parsed or to be emitted.
public struct EthernetRepr: Sendable, Hashable {
    public var destination: MACAddress
    public var source: MACAddress
    /// The payload's protocol (the inner type when `vlanTag` is set).
    public var etherType: EtherType
    public var vlanTag: VLANTag?

    @inlinable
    public init(destination: MACAddress, source: MACAddress, etherType: EtherType, vlanTag: VLANTag? = nil) {
        self.destination = destination
        self.source = source
        self.etherType = etherType
        self.vlanTag = vlanTag
    }

    @inlinable
    public init(parsing frame: EthernetFrame) {
        self.init(destination: frame.destination, source: frame.source, etherType: frame.etherType,
                  vlanTag: frame.vlanTag)
    }

    /// 14, or 18 with a tag: where the payload goes in a TX frame.
    @inlinable
    public var headerLength: Int { vlanTag == nil ? EthernetFrame.headerLength : EthernetFrame.taggedHeaderLength }

    /// The frame length for a payload of `payloadLength` bytes. Does not pad to 60:
    /// NICs and veth pad short frames themselves.
    @inlinable
    public func bufferLength(payloadLength: Int) -> Int { headerLength + payloadLength }

    /// Writes the header at the start of `buffer`; the payload bytes after it are untouched.
    @inlinable
    public func emit(into buffer: UnsafeMutableRawBufferPointer) throws(WireError) {
        guard buffer.count >= headerLength else { throw WireError(.bufferTooSmall, .ethernet, "no room for header") }
        typealias Field = EthernetFrame.Field
        destination.store(into: buffer, at: Field.destination)
        source.store(into: buffer, at: Field.source)
        if let vlanTag {
            buffer.storeBigEndian(EtherType.vlan.rawValue, Field.etherType)
            buffer.storeBigEndian(vlanTag.rawValue, Field.vlanControl)
            buffer.storeBigEndian(etherType.rawValue, Field.innerEtherType)
        } else {
            buffer.storeBigEndian(etherType.rawValue, Field.etherType)
        }
    }
}
