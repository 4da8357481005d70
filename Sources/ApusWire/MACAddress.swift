/// A 48-bit IEEE 802 MAC address.
///
/// Stored in the low 48 bits of a `UInt64` (first octet most significant)
/// so comparing and hashing an address is one integer operation, which the
/// per-frame "is this for me?" check does on every received frame.
public struct MACAddress: Sendable, Hashable, Comparable, CustomStringConvertible, LosslessStringConvertible {
    /// The address as a 48-bit number; the first octet on the wire is bits 47...40.
    public let rawValue: UInt64

    @inlinable
    public init(rawValue: UInt64) {
        self.rawValue = rawValue & 0xFFFF_FFFF_FFFF
    }

    @inlinable
    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8, _ b4: UInt8, _ b5: UInt8) {
        self.rawValue = UInt64(b0) << 40 | UInt64(b1) << 32 | UInt64(b2) << 24
            | UInt64(b3) << 16 | UInt64(b4) << 8 | UInt64(b5)
    }

    /// Reads six bytes as they appear in a frame.
    @inlinable
    init(loading bytes: UnsafeRawBufferPointer, at field: Range<Int>) {
        assert(field.count == 6)
        let high = UInt64(bytes.bigEndian(field.lowerBound..<field.lowerBound + 2, as: UInt16.self))
        let low = UInt64(bytes.bigEndian(field.lowerBound + 2..<field.upperBound, as: UInt32.self))
        self.rawValue = high << 32 | low
    }

    @inlinable
    func store(into bytes: UnsafeMutableRawBufferPointer, at field: Range<Int>) {
        assert(field.count == 6)
        bytes.storeBigEndian(UInt16(truncatingIfNeeded: rawValue >> 32), field.lowerBound..<field.lowerBound + 2)
        bytes.storeBigEndian(UInt32(truncatingIfNeeded: rawValue), field.lowerBound + 2..<field.upperBound)
    }

    /// Parses the colon-separated hex form, `02:00:00:00:00:01` (dashes are accepted too).
    public init?(_ description: String) {
        var value: UInt64 = 0
        var octets = 0
        for part in description.split(separator: ":", omittingEmptySubsequences: false)
            .flatMap({ $0.split(separator: "-", omittingEmptySubsequences: false) })
        {
            guard part.count == 1 || part.count == 2, let octet = UInt8(part, radix: 16) else { return nil }
            value = value << 8 | UInt64(octet)
            octets += 1
        }
        guard octets == 6 else { return nil }
        self.rawValue = value
    }

    /// `ff:ff:ff:ff:ff:ff`, where ARP requests go (RFC 826).
    public static let broadcast = MACAddress(rawValue: 0xFFFF_FFFF_FFFF)
    /// `00:00:00:00:00:00`, the target hardware address of an ARP request.
    public static let zero = MACAddress(rawValue: 0)

    /// The six octets in wire order.
    @inlinable
    public var octets: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) {
        (UInt8(truncatingIfNeeded: rawValue >> 40), UInt8(truncatingIfNeeded: rawValue >> 32),
         UInt8(truncatingIfNeeded: rawValue >> 24), UInt8(truncatingIfNeeded: rawValue >> 16),
         UInt8(truncatingIfNeeded: rawValue >> 8), UInt8(truncatingIfNeeded: rawValue))
    }

    @inlinable public var isBroadcast: Bool { rawValue == 0xFFFF_FFFF_FFFF }
    /// The I/G bit (least significant bit of the first octet, IEEE 802 §8.2) marks group addresses;
    /// broadcast is one of them.
    @inlinable public var isMulticast: Bool { rawValue & 0x0100_0000_0000 != 0 }
    @inlinable public var isUnicast: Bool { !isMulticast }
    /// The U/L bit: set on addresses made up locally (like Apus's own, `02:...`).
    @inlinable public var isLocallyAdministered: Bool { rawValue & 0x0200_0000_0000 != 0 }

    @inlinable
    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        let digits: [Character] = Array("0123456789abcdef")
        var text = ""
        text.reserveCapacity(17)
        for shift in stride(from: 40, through: 0, by: -8) {
            let octet = Int((rawValue >> UInt64(shift)) & 0xFF)
            if shift != 40 { text.append(":") }
            text.append(digits[octet >> 4])
            text.append(digits[octet & 0xF])
        }
        return text
    }
}
