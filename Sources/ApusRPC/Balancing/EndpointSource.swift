/// Where a balancing client learns its servers: a static list, DNS, a
/// registry (etcd). Each element is the whole current set; the first comes
/// as soon as it is known.
///
/// A source rides out its own failures: when the registry cannot be reached
/// it logs why, keeps the last set it gave (callers keep being served) and
/// retries with backoff. It never ends while the client listens, so the
/// stream has no error type.
public protocol EndpointSource: Sendable, CustomStringConvertible {
    func endpointSets() -> AsyncStream<[Endpoint]>
}

/// A fixed list of endpoints (`--endpoints A:P,B:P`).
public struct StaticEndpoints: EndpointSource {
    public let endpoints: [Endpoint]

    public init(_ endpoints: [Endpoint]) { self.endpoints = endpoints }

    public func endpointSets() -> AsyncStream<[Endpoint]> {
        let (stream, continuation) = AsyncStream.makeStream(of: [Endpoint].self)
        continuation.yield(endpoints)  // and stays open: a static set never changes, nor ends
        return stream
    }

    public var description: String { "the static list \(endpoints.map(\.id).joined(separator: ","))" }
}
