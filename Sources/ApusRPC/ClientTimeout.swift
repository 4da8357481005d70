import ApusThrift

/// Gives every call without its own timeout a default one. The transport
/// enforces it per attempt (a retried call gets a fresh timeout per attempt).
public struct ClientTimeout<Inner: ClientTransport>: ClientTransport {
    public let inner: Inner
    public let timeout: Duration

    public init(_ inner: Inner, timeout: Duration) {
        self.inner = inner
        self.timeout = timeout
    }

    @inlinable
    func withDefault(_ options: CallOptions) -> CallOptions {
        var options = options
        if options.timeout == nil { options.timeout = timeout }
        return options
    }

    public func call<Reply: Sendable>(
        _ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions,
        decode: @escaping @Sendable (borrowing IncomingMessage) throws(RPCError) -> Reply
    ) async throws -> Reply {
        try await inner.call(request, method: method, options: withDefault(options), decode: decode)
    }

    public func callOneway(_ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions) async throws {
        try await inner.callOneway(request, method: method, options: withDefault(options))
    }
}
