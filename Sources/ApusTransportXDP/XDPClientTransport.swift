import ApusNet
import ApusRPC
import ApusThrift
import ApusWire
import ApusXSK
import Logging
import Synchronization

/// A client connection pool over Apus's own TCP on AF_XDP: an Apus instance
/// owning its own address on one NIC queue, so a load generator is not
/// limited by the kernel. Calls made from tasks that prefer `taskExecutor`
/// (the queue's thread) run with no thread hop; others hop there once.
public final class XDPClientTransport: ClientTransport {
    public struct Configuration: Sendable {
        /// Where this client lives (one queue: replies come back on the queue the calls left from).
        public var placement: XDPPlacement
        public var server: IPv4Address
        public var port: UInt16
        public var framing: ThriftFraming
        public var protocolID: ThriftProtocolID
        public var limits: ThriftLimits
        public var connections: Int
        /// Send `Service:method` names (TMultiplexedProtocol).
        public var multiplexed: Bool
        /// Send every call in a THeader or TTHeader frame with `CallOptions.metadata` and the
        /// timeout; replies' headers go to `CallOptions.responseMetadata`. nil: none.
        public var header: THeader.Format? = nil
        public var engine: QueueEngine.Options

        public init(placement: XDPPlacement, server: IPv4Address, port: UInt16, framing: ThriftFraming = .framed,
                    protocol protocolID: ThriftProtocolID = .binary, limits: ThriftLimits = .default, connections: Int = 1,
                    multiplexed: Bool = false, engine: QueueEngine.Options = QueueEngine.Options()) {
            precondition(connections >= 1, "a pool needs at least one connection")
            self.placement = placement
            self.server = server
            self.port = port
            self.framing = framing
            self.protocolID = protocolID
            self.limits = limits
            self.connections = connections
            self.multiplexed = multiplexed
            self.engine = engine
        }
    }

    private let queues: XDPQueueSet?
    @usableFromInline let engine: QueueEngine
    @usableFromInline let pool: XDPClientPool
    /// Set by `close()`: later calls fail at once (the queue's loop may be gone).
    @usableFromInline let closed = Atomic<Bool>(false)

    private init(queues: XDPQueueSet) {
        self.queues = queues
        self.engine = queues.engines[0]
        self.pool = engine.application as! XDPClientPool
    }

    /// A client over an engine someone else runs (tests drive one over an in-memory link).
    init(engine: QueueEngine) {
        self.queues = nil
        self.engine = engine
        self.pool = engine.application as! XDPClientPool
    }

    /// An engine running a client pool for `configuration` (its placement is not used here).
    static func makeEngine(queue: UInt32, network: NetStackConfiguration, configuration: Configuration,
                           logger: Logger) throws(XSKError) -> QueueEngine {
        let pool = XDPClientPool.Configuration(
            server: configuration.server, port: configuration.port, framing: configuration.framing,
            protocolID: configuration.protocolID, limits: configuration.limits, connections: configuration.connections,
            multiplexed: configuration.multiplexed, header: configuration.header)
        return try QueueEngine(queue: queue, network: network, logger: logger, options: configuration.engine) { engine in
            XDPClientPool(engine: engine, configuration: pool)
        }
    }

    /// Opens the socket, starts the engine and claims the client's address. Connections open on first use.
    public static func start(_ configuration: Configuration, logger: Logger = Logger(label: "apus.xdp.client")) async throws -> XDPClientTransport {
        var placement = configuration.placement
        placement.queues = Array(placement.queues.prefix(1))
        let set = try XDPQueueSet(placement) { (queue, network) throws(XSKError) in
            try makeEngine(queue: queue, network: network, configuration: configuration, logger: logger)
        }
        do {
            try await set.start()
        } catch {
            await set.close()
            throw error
        }
        return XDPClientTransport(queues: set)
    }

    /// The queue thread's executor: tasks preferring it call without hops.
    public var taskExecutor: any TaskExecutor { engine.executor }

    public var statistics: EngineStatistics { engine.statistics }

    /// Inlinable, down to the pool's `startCall`: each async function between the caller and the
    /// continuation is one more executor check when the reply resumes the caller.
    @inlinable
    public func call<Reply: Sendable>(
        _ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions,
        decode: @escaping @Sendable (borrowing IncomingMessage) throws(RPCError) -> Reply
    ) async throws -> Reply {
        guard !closed.load(ordering: .relaxed) else { throw Self.closedError(method) }
        let options = try options.inheritingDeadline(for: method)
        let (engine, pool) = (self.engine, self.pool)
        if engine.executor.isCurrent {
            return try await Self.call(on: engine, pool, request, method: method, options: options, decode: decode)
        }
        return try await withTaskExecutorPreference(engine.executor) {
            try await Self.call(on: engine, pool, request, method: method, options: options, decode: decode)
        }
    }

    @usableFromInline
    static func closedError(_ method: MethodDescriptor) -> RPCError {
        RPCError(.unavailable, "\(method): the client is closed", requestWasNotSent: true)
    }

    @inlinable
    static func call<Reply: Sendable>(
        on engine: QueueEngine, _ pool: XDPClientPool, _ request: some ThriftMessageBody, method: MethodDescriptor,
        options: CallOptions, decode: @escaping @Sendable (borrowing IncomingMessage) throws(RPCError) -> Reply
    ) async throws -> Reply {
        try await engine.executor.call(method, start: { complete in
            pool.startCall(request, method: method, options: options, complete: complete)
        }, decode: decode)
    }

    /// Sleeps until `instant` on the queue's own timers: for a task on `taskExecutor`, with no
    /// thread hop and nanosecond resolution (a load generator's pacing). From elsewhere: `Task.sleep`.
    public func sleep(until instant: ContinuousClock.Instant) async {
        guard engine.executor.isCurrent else {
            try? await Task.sleep(until: instant, tolerance: .zero, clock: .continuous)
            return
        }
        let delay = ContinuousClock.now.duration(to: instant)
        guard delay > .zero else { return }
        let (seconds, attoseconds) = delay.components
        await engine.sleep(until: MonotonicClock.now() + NetDuration(nanoseconds: seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }

    /// Queues a oneway call; it is written at the queue's next output step.
    public func callOneway(_ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions) async throws {
        guard !closed.load(ordering: .relaxed) else { throw Self.closedError(method) }
        let (engine, pool) = (self.engine, self.pool)
        if engine.executor.isCurrent {
            guard pool.startOneway(request, method: method) else { throw Self.closedError(method) }
        } else {
            engine.executor.execute { _ = pool.startOneway(request, method: method) }
        }
    }

    /// Closes the connections (outstanding calls fail with `.unavailable`), stops the engine, releases the address.
    public func close() async {
        closed.store(true, ordering: .relaxed)
        if let queues {
            await queues.close()
        } else {
            engine.closeAll()
            await engine.waitUntilFinished()
        }
    }
}
