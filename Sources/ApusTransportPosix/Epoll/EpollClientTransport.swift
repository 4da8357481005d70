import ApusRPC
import ApusThrift
import CEpoll
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A client connection pool on kernel sockets run by one epoll loop thread,
/// each connection a `ClientConnection` stream core: the requests made in a
/// pass go out in one `send` per connection, replies are decoded from one
/// shared read buffer, and callers resume on the loop's executor. Calls made
/// from tasks that prefer `taskExecutor` run with no thread hop (a load
/// generator's workers); others hop there once.
///
/// Plain TCP only; `PosixClientTransport` (SwiftNIO) also speaks TLS and
/// spreads connections over an event-loop group.
public final class EpollClientTransport: ClientTransport {
    public struct Configuration: Sendable {
        public var framing: ThriftFraming
        public var protocolID: ThriftProtocolID
        public var limits: ThriftLimits
        public var connections: Int
        /// Send `Service:method` names (TMultiplexedProtocol).
        public var multiplexed: Bool
        /// Send every call in a THeader or TTHeader frame with `CallOptions.metadata` and the
        /// timeout; replies' headers go to `CallOptions.responseMetadata`. nil: none.
        public var header: THeader.Format?
        /// A connect not finished by then fails its calls (as not sent).
        public var connectTimeout: Duration
        /// How long the loop, with calls awaiting replies and nothing else to do, keeps calling
        /// `epoll_wait` without a timeout before it sleeps in one, at most: as much of it as the
        /// replies' timing repays (`SpinPolicy`). A sleep costs the reply a wake-up, tens of
        /// microseconds on a VM. Zero: sleep at once. With no call outstanding it never polls.
        public var spinLimit: Duration

        public init(framing: ThriftFraming = .framed, protocol protocolID: ThriftProtocolID = .binary, limits: ThriftLimits = .default,
                    connections: Int = 1, multiplexed: Bool = false, header: THeader.Format? = nil, connectTimeout: Duration = .seconds(5),
                    spinLimit: Duration = .microseconds(50)) {
            precondition(connections >= 1, "a pool needs at least one connection")
            precondition(spinLimit >= .zero, "a client's spin limit cannot be negative")
            self.spinLimit = spinLimit
            self.framing = framing
            self.protocolID = protocolID
            self.limits = limits
            self.connections = connections
            self.multiplexed = multiplexed
            self.header = header
            self.connectTimeout = connectTimeout
        }
    }

    public let host: String
    public let port: Int
    let loop: EpollClientLoop
    /// Set by `close()`: later calls fail at once (the loop may be gone).
    private let closed = Atomic<Bool>(false)

    /// Starts the loop's thread; connections open on first use.
    public init(host: String, port: Int, configuration: Configuration = Configuration()) throws {
        self.host = host
        self.port = port
        loop = try EpollClientLoop(host: host, port: port, configuration: configuration)
        try loop.start()
    }

    /// The loop thread's executor: tasks preferring it call without hops.
    public var taskExecutor: any TaskExecutor { loop.executor }

    public func call<Reply: Sendable>(
        _ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions,
        decode: @escaping @Sendable (borrowing IncomingMessage) throws(RPCError) -> Reply
    ) async throws -> Reply {
        guard !closed.load(ordering: .relaxed) else { throw Self.closedError(method) }
        let options = try options.inheritingDeadline(for: method)
        let loop = self.loop
        if loop.executor.isCurrent {
            return try await Self.call(on: loop, request, method: method, options: options, decode: decode)
        }
        return try await withTaskExecutorPreference(loop.executor) {
            try await Self.call(on: loop, request, method: method, options: options, decode: decode)
        }
    }

    private static func call<Reply: Sendable>(
        on loop: EpollClientLoop, _ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions,
        decode: @escaping @Sendable (borrowing IncomingMessage) throws(RPCError) -> Reply
    ) async throws -> Reply {
        try await loop.executor.call(method, start: { complete in
            loop.startCall(request, method: method, options: options, complete: complete)
        }, decode: decode)
    }

    /// Queues a oneway call; it is written at the loop's next output step.
    public func callOneway(_ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions) async throws {
        guard !closed.load(ordering: .relaxed) else { throw Self.closedError(method) }
        let loop = self.loop
        if loop.executor.isCurrent {
            guard loop.startOneway(request, method: method) else { throw Self.closedError(method) }
        } else {
            loop.executor.execute { _ = loop.startOneway(request, method: method) }
        }
    }

    private static func closedError(_ method: MethodDescriptor) -> RPCError {
        RPCError(.unavailable, "\(method): the client is closed", requestWasNotSent: true)
    }

    /// Closes the connections (outstanding calls fail with `.unavailable`) and ends the loop.
    public func close() async {
        guard !closed.exchange(true, ordering: .relaxed) else { return await loop.finished.wait() }
        loop.stop()
        await loop.finished.wait()
    }
}

/// One pooled connection: the stream core, its socket when open, request bytes not yet sent.
final class EpollClientConnection: @unchecked Sendable {
    var core: ClientConnection<OutgoingMessage>
    var fd: Int32 = -1
    var token: UInt64 = 0
    var output = ByteQueue()
    var connectingSince: Duration?
    var isDirty = false
    var writeBlocked = false

    init(core: consuming ClientConnection<OutgoingMessage>) { self.core = core }
}
