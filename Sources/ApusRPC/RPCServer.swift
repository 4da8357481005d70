import ApusThrift
import Logging
import ServiceLifecycle
import Synchronization

/// An RPC server: one transport, one router, server-wide middleware.
///
/// A swift-service-lifecycle `Service`: `run()` serves until graceful
/// shutdown (SIGTERM through a `ServiceGroup`, or `beginGracefulShutdown()`)
/// or cancellation, then stops accepting, lets in-flight calls finish for up
/// to `gracePeriod` (new calls on open connections are refused with
/// "server is shutting down"), and closes the connections.
///
/// With a `registration` (etcd) it registers once it listens and, on
/// shutdown, deregisters *first*, then keeps serving for
/// `deregistrationDelay` so clients watching the registry drop it before it
/// stops accepting: a rolling restart costs them no call.
public final class RPCServer<Transport: ServerTransport>: Service, Sendable {
    public let transport: Transport
    public let dispatcher: ServerDispatcher
    public let gracePeriod: Duration
    public let registration: (any ServiceRegistration)?
    /// Time between deregistering and draining, for clients to see the server leave.
    public let deregistrationDelay: Duration
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var address: Result<PeerAddress, any Error>?
        var addressWaiters: [CheckedContinuation<PeerAddress, any Error>] = []
        var shutdownRequested = false
        var shutdownWaiter: CheckedContinuation<Void, Never>?
    }

    /// - Parameters:
    ///   - middleware: builds the server-wide chain around the router, e.g.
    ///     `{ $0.layer(LoggingMiddleware()).layer(MetricsMiddleware()) }`
    ///     (the last layer added runs first).
    ///   - callTimeout: the longest any call may run; past it (or past its caller's deadline,
    ///     whichever is first) the call is answered DEADLINE_EXCEEDED and its task cancelled.
    ///     Enforced by the dispatcher's deadline table, so it costs a table entry per call,
    ///     not the two child tasks of `TimeoutMiddleware` (use that for single methods).
    ///   - registration: where to list the server while it serves (`EtcdRegistration`).
    ///   - deregistrationDelay: how long it keeps serving after deregistering, before it drains.
    public init<Handler: RPCHandler>(
        transport: Transport, router: Router, limits: ThriftLimits = .default, callTimeout: Duration? = nil,
        gracePeriod: Duration = .seconds(10), registration: (any ServiceRegistration)? = nil,
        deregistrationDelay: Duration = .seconds(1), logger: Logger = Logger(label: "apus.server"),
        middleware: (Router) -> Handler
    ) {
        self.transport = transport
        self.gracePeriod = gracePeriod
        self.registration = registration
        self.deregistrationDelay = deregistrationDelay
        self.logger = logger
        self.dispatcher = ServerDispatcher(router: router, handler: middleware(router), limits: limits, callTimeout: callTimeout,
                                           logger: logger)
    }

    public convenience init(
        transport: Transport, router: Router, limits: ThriftLimits = .default, callTimeout: Duration? = nil,
        gracePeriod: Duration = .seconds(10), registration: (any ServiceRegistration)? = nil,
        deregistrationDelay: Duration = .seconds(1), logger: Logger = Logger(label: "apus.server")
    ) {
        self.init(transport: transport, router: router, limits: limits, callTimeout: callTimeout, gracePeriod: gracePeriod,
                  registration: registration, deregistrationDelay: deregistrationDelay, logger: logger) { $0 }
    }

    public func run() async throws {
        let address: PeerAddress
        do {
            address = try await transport.listen(dispatcher: dispatcher)
        } catch {
            resolveAddress(.failure(error))
            throw error
        }
        resolveAddress(.success(address))
        let registering = registration.map { registration in
            Task { await registration.maintain(listeningOn: address) }
        }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await waitForShutdownRequest()
            } onGracefulShutdown: {
                self.beginGracefulShutdown()
            }
        } onCancel: {
            self.beginGracefulShutdown()
        }
        if let registration, let registering {
            registering.cancel()
            await registering.value
            await registration.deregister()
            logger.info("deregistered; serving on until clients have seen it", metadata: ["for": "\(deregistrationDelay.humanReadable)"])
            try? await Task.sleep(for: deregistrationDelay)
        }
        logger.info("shutting down: no new connections, waiting for in-flight calls", metadata: [
            "inFlight": "\(dispatcher.inFlightCalls)", "gracePeriod": "\(gracePeriod.humanReadable)",
        ])
        dispatcher.beginDraining()
        await transport.stopAccepting()
        if !(await dispatcher.waitForInFlightCalls(gracePeriod: gracePeriod)) {
            logger.warning("grace period over; closing with calls in flight", metadata: ["inFlight": "\(dispatcher.inFlightCalls)"])
        }
        await transport.close()
    }

    /// The address the transport listens on, once `run()` has started it.
    public var listeningAddress: PeerAddress {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                state.withLock { state in
                    switch state.address {
                    case .some(let result): continuation.resume(with: result)
                    case .none: state.addressWaiters.append(continuation)
                    }
                }
            }
        }
    }

    /// Starts the shutdown sequence of `run()` (idempotent).
    public func beginGracefulShutdown() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.shutdownRequested = true
            defer { state.shutdownWaiter = nil }
            return state.shutdownWaiter
        }
        waiter?.resume()
    }

    private func waitForShutdownRequest() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                if state.shutdownRequested { return true }
                state.shutdownWaiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    private func resolveAddress(_ result: Result<PeerAddress, any Error>) {
        let waiters = state.withLock { state in
            state.address = result
            defer { state.addressWaiters = [] }
            return state.addressWaiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }
}
