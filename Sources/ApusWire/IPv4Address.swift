/// An IPv4 address.
///
/// Stored as a host-order `UInt32` (10.10.0.10 is `0x0A0A_000A`) so prefix
/// and range checks are integer arithmetic; conversion to network order
/// happens only where bytes are read or written.
public struct IPv4Address: Sendable, Hashable, Comparable, CustomStringConvertible, LosslessStringConvertible {
    public let rawValue: UInt32

    @inlinable
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    @inlinable
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        self.rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses dotted-quad text, `10.10.0.10`: exactly four decimal octets, no leading zeros
    /// (which some parsers read as octal), nothing else.
    public init?(_ description: String) {
        var value: UInt32 = 0
        var octets = 0
        for part in description.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard (1...3).contains(part.count), part.count == 1 || part.first != UInt8(ascii: "0") else { return nil }
            var octet: UInt32 = 0
            for digit in part {
                guard digit >= UInt8(ascii: "0") && digit <= UInt8(ascii: "9") else { return nil }
                octet = octet * 10 + UInt32(digit - UInt8(ascii: "0"))
            }
            guard octet <= 255 else { return nil }
            value = value << 8 | octet
            octets += 1
        }
        guard octets == 4 else { return nil }
        self.rawValue = value
    }

    /// `0.0.0.0`: "this host" as a source (RFC 1122 §3.2.1.3), the ARP probe sender (RFC 5227).
    public static let any = IPv4Address(rawValue: 0)
    /// `255.255.255.255`, limited broadcast (RFC 919).
    public static let broadcast = IPv4Address(rawValue: 0xFFFF_FFFF)

    /// The four octets in wire order.
    @inlinable
    public var octets: (UInt8, UInt8, UInt8, UInt8) {
        (UInt8(truncatingIfNeeded: rawValue >> 24), UInt8(truncatingIfNeeded: rawValue >> 16),
         UInt8(truncatingIfNeeded: rawValue >> 8), UInt8(truncatingIfNeeded: rawValue))
    }

    @inlinable public var isUnspecified: Bool { rawValue == 0 }
    @inlinable public var isBroadcast: Bool { rawValue == 0xFFFF_FFFF }
    /// 224.0.0.0/4 (RFC 5771).
    @inlinable public var isMulticast: Bool { rawValue >> 28 == 0xE }
    /// 127.0.0.0/8 (RFC 1122 §3.2.1.3): must never appear on the wire.
    @inlinable public var isLoopback: Bool { rawValue >> 24 == 127 }

    @inlinable
    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        let (a, b, c, d) = octets
        return "\(a).\(b).\(c).\(d)"
    }
}
