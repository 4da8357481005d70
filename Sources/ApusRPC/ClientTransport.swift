import ApusThrift

/// Per-call knobs a caller can set.
public struct CallOptions: Sendable {
    /// How long to wait for the reply; nil waits until the connection fails.
    public var timeout: Duration?
    /// Overrides the method's own idempotency (from its IDL annotation) for retries.
    public var idempotent: Bool?
    /// Headers sent with the call (THeader or TTHeader string info headers, on a transport
    /// configured for one; plain framings carry none). The timeout travels too (THeader's
    /// `client_timeout`, TTHeader's int key 12).
    public var metadata: [String: String]
    /// Receives the reply's headers (THeader), when given.
    public var responseMetadata: ResponseMetadata?
    /// What a `LoadBalancer` with the consistent-hash policy routes on (a user id, a shard
    /// key): calls with the same key go to the same endpoint while it is in the set.
    public var balancingKey: String?

    public init(timeout: Duration? = nil, idempotent: Bool? = nil, metadata: [String: String] = [:],
                responseMetadata: ResponseMetadata? = nil, balancingKey: String? = nil) {
        self.timeout = timeout
        self.idempotent = idempotent
        self.metadata = metadata
        self.responseMetadata = responseMetadata
        self.balancingKey = balancingKey
    }

    /// These options with the deadline of the call being served (`CallDeadline.current`) when
    /// they have no timeout of their own, or an earlier one. Throws DEADLINE_EXCEEDED when that
    /// deadline has passed: the call is not sent.
    @usableFromInline
    package func inheritingDeadline(for method: MethodDescriptor) throws(RPCError) -> CallOptions {
        guard let deadline = CallDeadline.current else { return self }
        let left = ContinuousClock.now.duration(to: deadline)
        guard left > .zero else {
            throw RPCError(.deadlineExceeded, "\(method) not sent: the call being served is past its deadline", requestWasNotSent: true)
        }
        var options = self
        options.timeout = min(timeout ?? left, left)
        return options
    }

    /// The header frame a call with these options goes in: its metadata, and the time the
    /// caller still waits (milliseconds), so the server can give up when the caller has — as
    /// fbthrift's `client_timeout` in THeader, and in TTHeader as Kitex sends it: int key 12,
    /// with the method's name as int key 9.
    package func header(_ format: THeader.Format, protocol protocolID: ThriftProtocolID, sequenceID: Int32,
                        method: String) -> THeader {
        var header = THeader.bare(format, sequenceNumber: UInt32(bitPattern: sequenceID), protocol: protocolID)
        header.headers = metadata
        let milliseconds = timeout.map { max(1, $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) }
        switch format {
        case .theader:
            if let milliseconds { header.headers[ServerDispatcher.clientTimeoutHeader] = String(milliseconds) }
        case .ttheader:
            header.intHeaders[THeader.TTKey.toMethod] = method
            if let milliseconds { header.intHeaders[THeader.TTKey.rpcTimeout] = String(milliseconds) }
        }
        return header
    }

    public static let defaults = CallOptions()
}

/// How a generated client reaches a server: a connection pool (kernel
/// sockets, AF_XDP) or a middleware wrapping one (`Retry`, `CircuitBreaker`,
/// `ClientTimeout`). Middleware are transports around transports, so a
/// client stack is a concrete generic type such as
/// `ClientTimeout<Retry<CircuitBreaker<PosixClientTransport>>>`: statically
/// composed, no boxing.
public protocol ClientTransport: Sendable {
    /// Sends a call and waits for its reply. `decode` runs on the transport's
    /// thread while the reply's bytes are valid; what it returns is the result.
    /// Errors: `RPCError` (`.unavailable` when the connection failed or was
    /// lost, `.deadlineExceeded` when `options.timeout` passed, the server's
    /// TApplicationException mapped back to a code).
    func call<Reply: Sendable>(
        _ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions,
        decode: @escaping @Sendable (borrowing IncomingMessage) throws(RPCError) -> Reply
    ) async throws -> Reply

    /// Sends a oneway call; returns once it is written to the connection.
    func callOneway(_ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions) async throws
}

extension ClientTransport {
    /// The entry point of generated clients: a call whose reply is the result struct `Result`.
    @inlinable
    public func call<Args: ThriftMessageBody, Result: ThriftDecodable & Sendable>(
        _ arguments: Args, method: MethodDescriptor, options: CallOptions, result: Result.Type
    ) async throws -> Result {
        try await call(arguments, method: method, options: options) { (message: borrowing IncomingMessage) throws(RPCError) -> Result in
            try message.decodeReply(Result.self)
        }
    }
}

extension UnsafeContinuation where E == any Error, T: Sendable {
    /// Resumes a waiting call with its reply, decoded by `decode` while the reply's bytes are
    /// valid, or with the transport's error: the one way every client transport completes a call.
    @inlinable
    public func resume(with result: Result<IncomingMessage, RPCError>,
                       decode: (borrowing IncomingMessage) throws(RPCError) -> T) {
        switch result {
        case .success(let message):
            do throws(RPCError) {
                resume(returning: try decode(message))
            } catch {
                resume(throwing: error)
            }
        case .failure(let error):
            resume(throwing: error)
        }
    }
}
