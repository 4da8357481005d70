/// The EtherType field of an Ethernet II frame (IEEE 802.3 §3.2.6, IANA registry).
///
/// A raw-value struct rather than an enum so a frame of an unknown type
/// still parses and the stack can count what it drops.
public struct EtherType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let ipv4 = EtherType(rawValue: 0x0800)
    public static let arp = EtherType(rawValue: 0x0806)
    /// IEEE 802.1Q customer VLAN tag.
    public static let vlan = EtherType(rawValue: 0x8100)
    public static let ipv6 = EtherType(rawValue: 0x86DD)
    /// IEEE 802.1ad service VLAN tag (the outer tag of QinQ).
    public static let qinq = EtherType(rawValue: 0x88A8)

    public var description: String {
        switch self {
        case .ipv4: "IPv4"
        case .arp: "ARP"
        case .vlan: "802.1Q"
        case .ipv6: "IPv6"
        case .qinq: "802.1ad"
        default: "0x" + String(rawValue, radix: 16)
        }
    }
}
