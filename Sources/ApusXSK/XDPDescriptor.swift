/// One RX or TX ring entry (`struct xdp_desc`): where a frame's packet starts
/// in the UMEM and how long it is.
@frozen
public struct XDPDescriptor: Hashable, Sendable {
    /// Byte offset of the packet in the UMEM (frame start plus headroom).
    public var address: UInt64
    public var length: UInt32
    public var options: UInt32

    @inlinable
    public init(address: UInt64, length: UInt32, options: UInt32 = 0) {
        self.address = address
        self.length = length
        self.options = options
    }
}
