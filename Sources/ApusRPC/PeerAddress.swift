/// Where a connection comes from or goes to, as the transport names it
/// (`127.0.0.1:9090`, `[::1]:9090`, `10.10.0.10:9090 (xdp q0)`).
public struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }

    public static let unknown = PeerAddress("unknown")
}
