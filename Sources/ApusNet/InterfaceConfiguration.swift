import ApusWire

/// An IPv4 prefix, such as 10.10.0.0/24: which destinations are on-link.
public struct IPv4Subnet: Sendable, Hashable, CustomStringConvertible {
    public var address: IPv4Address
    /// 0...32.
    public var prefixLength: Int

    public init(address: IPv4Address, prefixLength: Int) {
        precondition((0...32).contains(prefixLength), "prefix length outside 0...32")
        self.address = address
        self.prefixLength = prefixLength
    }

    @inlinable
    public var mask: UInt32 { prefixLength == 0 ? 0 : UInt32.max << UInt32(32 - prefixLength) }

    @inlinable
    public func contains(_ other: IPv4Address) -> Bool { (other.rawValue ^ address.rawValue) & mask == 0 }

    /// The subnet-directed broadcast address (RFC 919), e.g. 10.10.0.255 for a /24.
    public var broadcast: IPv4Address { IPv4Address(rawValue: address.rawValue | ~mask) }

    public var description: String { "\(IPv4Address(rawValue: address.rawValue & mask))/\(prefixLength)" }
}

/// What the stack is on the link: its MAC, the IPv4 addresses it owns, how
/// large a packet may be, and how to reach hosts off-link.
public struct InterfaceConfiguration: Sendable, Hashable {
    public var macAddress: MACAddress
    /// Addresses Apus answers for (ARP, ICMP echo, UDP, TCP). The first is the source of
    /// connections opened without an explicit local address.
    public var addresses: [IPv4Address]
    /// The largest IPv4 packet, header included (RFC 894: 1500 on Ethernet). Apus never
    /// fragments; TCP's MSS is derived from it.
    public var mtu: Int
    /// On-link destinations; everything else goes to `gateway`. Nil means every destination
    /// is treated as on-link (a point-to-point testbed).
    public var subnet: IPv4Subnet?
    public var gateway: IPv4Address?
    /// The IEEE 802.1Q VLAN the stack is on: only frames tagged with it are its own, and every
    /// frame it sends carries the tag. nil: the untagged link.
    public var vlan: UInt16?

    public init(macAddress: MACAddress, addresses: [IPv4Address], mtu: Int = 1500,
                subnet: IPv4Subnet? = nil, gateway: IPv4Address? = nil, vlan: UInt16? = nil) {
        self.macAddress = macAddress
        self.addresses = addresses
        self.mtu = mtu
        self.subnet = subnet
        self.gateway = gateway
        self.vlan = vlan
    }

    /// The Ethernet header of a frame to `destination`, tagged when the stack is on a VLAN.
    @inlinable
    public func link(to destination: MACAddress, _ etherType: EtherType) -> EthernetRepr {
        EthernetRepr(destination: destination, source: macAddress, etherType: etherType,
                     vlanTag: vlan.map { VLANTag(identifier: $0) })
    }

    @inlinable
    public func owns(_ address: IPv4Address) -> Bool { addresses.contains(address) }
}
