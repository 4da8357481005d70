/// The ARP operation code (RFC 826; IANA "ARP Operation Codes").
public struct ARPOperation: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let request = ARPOperation(rawValue: 1)
    public static let reply = ARPOperation(rawValue: 2)

    public var description: String {
        switch self {
        case .request: "request"
        case .reply: "reply"
        default: "operation \(rawValue)"
        }
    }
}

/// A view of an ARP packet for IPv4 over Ethernet (RFC 826), the only
/// pairing Apus resolves: hardware type 1, protocol 0x0800, lengths 6 and 4.
public struct ARPPacket {
    @usableFromInline enum Field {
        @inlinable static var hardwareType: Range<Int> { 0..<2 }
        @inlinable static var protocolType: Range<Int> { 2..<4 }
        @inlinable static var hardwareLength: Int { 4 }
        @inlinable static var protocolLength: Int { 5 }
        @inlinable static var operation: Range<Int> { 6..<8 }
        @inlinable static var senderHardwareAddress: Range<Int> { 8..<14 }
        @inlinable static var senderProtocolAddress: Range<Int> { 14..<18 }
        @inlinable static var targetHardwareAddress: Range<Int> { 18..<24 }
        @inlinable static var targetProtocolAddress: Range<Int> { 24..<28 }
    }

    /// Length of an Ethernet/IPv4 ARP packet.
    @inlinable public static var length: Int { 28 }

    /// The 28 bytes of the packet (the frame's padding is not included).
    public let bytes: UnsafeRawBufferPointer

    /// Checks the length and that the packet maps IPv4 to Ethernet addresses;
    /// any other pairing is `unsupported`.
    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= Self.length else { throw WireError(.truncated, .arp, "shorter than 28 bytes") }
        guard bytes.bigEndian(Field.hardwareType, as: UInt16.self) == 1,
              bytes.bigEndian(Field.protocolType, as: UInt16.self) == EtherType.ipv4.rawValue,
              bytes[Field.hardwareLength] == 6, bytes[Field.protocolLength] == 4
        else { throw WireError(.unsupported, .arp, "not IPv4 over Ethernet") }
        self.bytes = bytes.slice(0..<Self.length)
    }

    @inlinable public var operation: ARPOperation { ARPOperation(rawValue: bytes.bigEndian(Field.operation)) }
    @inlinable public var senderHardwareAddress: MACAddress { MACAddress(loading: bytes, at: Field.senderHardwareAddress) }
    @inlinable public var senderProtocolAddress: IPv4Address { IPv4Address(rawValue: bytes.bigEndian(Field.senderProtocolAddress)) }
    @inlinable public var targetHardwareAddress: MACAddress { MACAddress(loading: bytes, at: Field.targetHardwareAddress) }
    @inlinable public var targetProtocolAddress: IPv4Address { IPv4Address(rawValue: bytes.bigEndian(Field.targetProtocolAddress)) }
}

/// The fields of an Ethernet/IPv4 ARP packet, parsed or to be emitted.
///
/// The operation is kept as received, so the stack decides what to do with
/// codes other than request and reply (RFC 826 says: ignore them).
public struct ARPRepr: Sendable, Hashable {
    public var operation: ARPOperation
    public var senderHardwareAddress: MACAddress
    public var senderProtocolAddress: IPv4Address
    public var targetHardwareAddress: MACAddress
    public var targetProtocolAddress: IPv4Address

    @inlinable
    public init(operation: ARPOperation, senderHardwareAddress: MACAddress, senderProtocolAddress: IPv4Address,
                targetHardwareAddress: MACAddress, targetProtocolAddress: IPv4Address) {
        self.operation = operation
        self.senderHardwareAddress = senderHardwareAddress
        self.senderProtocolAddress = senderProtocolAddress
        self.targetHardwareAddress = targetHardwareAddress
        self.targetProtocolAddress = targetProtocolAddress
    }

    @inlinable
    public init(parsing packet: ARPPacket) {
        self.init(operation: packet.operation,
                  senderHardwareAddress: packet.senderHardwareAddress,
                  senderProtocolAddress: packet.senderProtocolAddress,
                  targetHardwareAddress: packet.targetHardwareAddress,
                  targetProtocolAddress: packet.targetProtocolAddress)
    }

    /// Always 28.
    @inlinable public var bufferLength: Int { ARPPacket.length }

    /// Writes the 28-byte packet at the start of `buffer`.
    @inlinable
    public func emit(into buffer: UnsafeMutableRawBufferPointer) throws(WireError) {
        guard buffer.count >= ARPPacket.length else { throw WireError(.bufferTooSmall, .arp, "no room for packet") }
        typealias Field = ARPPacket.Field
        buffer.storeBigEndian(UInt16(1), Field.hardwareType)
        buffer.storeBigEndian(EtherType.ipv4.rawValue, Field.protocolType)
        buffer[Field.hardwareLength] = 6
        buffer[Field.protocolLength] = 4
        buffer.storeBigEndian(operation.rawValue, Field.operation)
        senderHardwareAddress.store(into: buffer, at: Field.senderHardwareAddress)
        buffer.storeBigEndian(senderProtocolAddress.rawValue, Field.senderProtocolAddress)
        targetHardwareAddress.store(into: buffer, at: Field.targetHardwareAddress)
        buffer.storeBigEndian(targetProtocolAddress.rawValue, Field.targetProtocolAddress)
    }
}
