/// What the RPC layer knows about a method without its types: names, whether
/// a reply comes back, whether calling it twice is harmless.
public struct MethodDescriptor: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// A call answered by a reply or an exception.
        case call
        /// `oneway`: no reply, not even an exception.
        case oneway
    }

    /// The IDL service name; the prefix of multiplexed names (`Service:method`).
    public let service: String
    /// The method name as it appears in messages.
    public let method: String
    public let kind: Kind
    /// Safe to retry after the request may have run (the IDL annotation
    /// `(idempotent)` or the client's own call options say so).
    public let isIdempotent: Bool

    public init(service: String, method: String, kind: Kind = .call, isIdempotent: Bool = false) {
        self.service = service
        self.method = method
        self.kind = kind
        self.isIdempotent = isIdempotent
    }

    /// `Service:method`, the name TMultiplexedProtocol puts on the wire.
    public var multiplexedName: String { "\(service):\(method)" }

    public var description: String { "\(service).\(method)" }
}
