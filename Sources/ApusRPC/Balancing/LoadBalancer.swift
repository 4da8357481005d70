import ApusThrift
import Logging
import Synchronization

/// A client over a set of servers: one transport (connection pool) per
/// endpoint, the set kept current by an `EndpointSource`, an endpoint
/// picked per call by a `LoadBalancingPolicy`, endpoints that keep failing
/// ejected for a while (`OutlierEjection`).
///
/// A call that fails where running it again is safe — its request was never
/// sent (connection refused), or the method is idempotent and the endpoint
/// was unavailable — goes at once to another endpoint, up to
/// `failoverAttempts` others; wrap the balancer in `Retry` for backoff on top.
/// When no endpoint is usable (an empty set, all ejected) calls fail with
/// `.unavailable` at once, not after a timeout. An endpoint that leaves the
/// set finishes its calls in flight before its transport is closed, so a
/// server that deregisters and drains costs its clients no call.
///
/// Transport-agnostic: `makeTransport` builds a kernel-socket or AF_XDP pool
/// per endpoint, `closeTransport` closes one.
public final class LoadBalancer<Transport: ClientTransport>: ClientTransport {
    public struct Configuration: Sendable {
        public var policy: LoadBalancingPolicy
        public var ejection: OutlierEjection
        /// Other endpoints a failed call may go to at once, when that is safe.
        public var failoverAttempts: Int
        /// How long a call waits for the source's first set before failing `.unavailable`.
        public var discoveryWait: Duration

        public init(policy: LoadBalancingPolicy = .powerOfTwoChoices, ejection: OutlierEjection = OutlierEjection(),
                    failoverAttempts: Int = 2, discoveryWait: Duration = .seconds(5)) {
            self.policy = policy
            self.ejection = ejection
            self.failoverAttempts = max(0, failoverAttempts)
            self.discoveryWait = discoveryWait
        }
    }

    /// One endpoint's share so far, for operators and `apus bench`.
    public struct EndpointStatistics: Sendable, Hashable {
        public var endpoint: Endpoint
        /// Calls finished there, and of those the ones it failed.
        public var calls: Int
        public var failures: Int
        public var inFlight: Int
        public var isEjected: Bool
        /// In the current set (false: it left; its calls are still counted).
        public var isInSet: Bool
    }

    public let source: any EndpointSource
    public let configuration: Configuration
    private let state: Mutex<BalancerState>
    /// The source gave its first set (checked per call without the lock).
    private let ready = Atomic<Bool>(false)
    private let listener = Mutex<Task<Void, Never>?>(nil)
    private let makeTransport: @Sendable (Endpoint) -> Transport
    private let closeTransport: @Sendable (Transport) async -> Void
    private let logger: Logger
    private let origin = ContinuousClock.now

    public init(source: some EndpointSource, configuration: Configuration = Configuration(),
                logger: Logger = Logger(label: "apus.balancer"),
                makeTransport: @escaping @Sendable (Endpoint) -> Transport,
                closeTransport: @escaping @Sendable (Transport) async -> Void) {
        self.source = source
        self.configuration = configuration
        self.logger = logger
        self.makeTransport = makeTransport
        self.closeTransport = closeTransport
        self.state = Mutex(BalancerState(core: BalancerCore(policy: configuration.policy, ejection: configuration.ejection)))
        let sets = source.endpointSets()
        listener.withLock { task in
            task = Task { [weak self] in
                for await set in sets {
                    guard let self else { return }
                    await self.apply(set)
                }
            }
        }
    }

    deinit { listener.withLock { $0?.cancel() } }

    /// The current set.
    public var endpoints: [Endpoint] { state.withLock { $0.core.endpoints } }

    /// Every endpoint that has been in the set: those in it first, then those that left.
    public var statistics: [EndpointStatistics] {
        let now = self.now
        return state.withLock { state in
            state.core.members.map {
                EndpointStatistics(endpoint: $0.endpoint, calls: $0.calls, failures: $0.failures, inFlight: $0.inFlight,
                                   isEjected: $0.ejectedUntil.map { $0 > now } ?? false, isInSet: true)
            } + state.core.departed.values.sorted { $0.id < $1.id }.map {
                EndpointStatistics(endpoint: $0.endpoint, calls: $0.calls, failures: $0.failures,
                                   inFlight: state.core.retiring[$0.id] ?? 0, isEjected: false, isInSet: false)
            }
        }
    }

    // MARK: Calls

    public func call<Reply: Sendable>(
        _ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions,
        decode: @escaping @Sendable (borrowing IncomingMessage) throws(RPCError) -> Reply
    ) async throws -> Reply {
        try await withFailover(method, options, idempotent: options.idempotent ?? method.isIdempotent) { transport in
            try await transport.call(request, method: method, options: options, decode: decode)
        }
    }

    public func callOneway(_ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions) async throws {
        // Once written, a oneway request may have run: only one never sent goes elsewhere.
        try await withFailover(method, options, idempotent: false) { transport in
            try await transport.callOneway(request, method: method, options: options)
        }
    }

    /// Runs `attempt` on a picked endpoint's transport; on a failure another endpoint may safely
    /// retry, on another one, up to `failoverAttempts` times.
    private func withFailover<T>(_ method: MethodDescriptor, _ options: CallOptions, idempotent: Bool,
                                 _ attempt: (any ClientTransport) async throws -> T) async throws -> T {
        if !ready.load(ordering: .acquiring) { try await waitForFirstSet(method) }
        let key = options.balancingKey.map(HashRing.hash)
        var tried: [String] = []
        var lastError: (any Error)?
        while true {
            let (pick, transport) = try choose(key: key, tried: tried, after: lastError, method: method)
            do {
                let result = try await attempt(transport)
                finish(pick, .answered, nil)
                return result
            } catch {
                finish(pick, Self.outcome(of: error), error)
                guard tried.count < configuration.failoverAttempts, !Task.isCancelled,
                      Self.mayFailOver(error, idempotent: idempotent) else { throw error }
                tried.append(pick.id)
                lastError = error
            }
        }
    }

    /// Stops following the source and closes every endpoint's transport; later calls fail.
    public func close() async {
        listener.withLock { $0?.cancel() }
        let transports = state.withLock { state in
            state.closed = true
            defer { state.transports = [:] }
            return Array(state.transports.values)
        }
        for transport in transports { await closeTransport(transport as! Transport) }
    }

    // MARK: Internals

    private var now: Duration { origin.duration(to: .now) }

    private func choose(key: UInt64?, tried: [String], after lastError: (any Error)?,
                        method: MethodDescriptor) throws -> (BalancerCore.Pick, any ClientTransport) {
        let choice: BalancerChoice = state.withLock { state in
            if state.closed { return .closed }
            // The clock matters only while an endpoint is ejected.
            let now = state.core.ejectedCount > 0 ? self.now : .zero
            switch state.core.pick(key: key, tried: tried, now: now) {
            case .success(let pick): return .picked(pick, state.byIndex[pick.index])
            case .failure(let reason): return .none(reason, now: now)
            }
        }
        switch choice {
        case .picked(let pick, let transport):
            return (pick, transport)
        case .closed:
            throw RPCError(.unavailable, "\(method): the client is closed", requestWasNotSent: true)
        case .none(let reason, let now):
            // Failing over found nowhere else to go: the caller learns what the last endpoint said.
            if let lastError { throw lastError }
            switch reason {
            case .empty:
                throw RPCError(.unavailable, "\(method) not sent: \(source) has no endpoints", requestWasNotSent: true)
            case .allEjected(let until):
                let wait = until > now ? " for \(until - now)" : ""
                throw RPCError(.unavailable, "\(method) not sent: every endpoint of \(source) is ejected after repeated failures\(wait)",
                               requestWasNotSent: true)
            case .allTried:
                throw RPCError(.unavailable, "\(method) not sent: no endpoint of \(source) left to try", requestWasNotSent: true)
            }
        }
    }

    private func finish(_ pick: BalancerCore.Pick, _ outcome: BalancerCore.Outcome, _ error: (any Error)?) {
        // The time matters only to a failure (ejection); answered calls skip the clock.
        let now = outcome == .endpointFault ? self.now : .zero
        let (finished, retired) = state.withLock { state in
            let finished = state.core.finish(pick, outcome, now: now)
            return (finished, finished.closeTransport ? state.transports.removeValue(forKey: pick.id) : nil)
        }
        if let time = finished.ejectedFor {
            logger.warning("ejecting an endpoint after repeated failures", metadata: [
                "endpoint": "\(pick.id)", "for": "\(time)", "lastError": "\(error.map { "\($0)" } ?? "-")",
            ])
        }
        if finished.restored { logger.info("endpoint back after a successful probe", metadata: ["endpoint": "\(pick.id)"]) }
        if let retired {
            let (close, transport) = (closeTransport, retired as! Transport)
            Task { await close(transport) }
        }
    }

    private func apply(_ set: [Endpoint]) async {
        let (changes, closing) = state.withLock { state -> (BalancerCore.Changes, [any ClientTransport]) in
            guard !state.closed else { return (BalancerCore.Changes(), []) }
            let changes = state.core.update(set)
            for endpoint in changes.added { state.transports[endpoint.id] = makeTransport(endpoint) }
            let closing = changes.closeNow.compactMap { state.transports.removeValue(forKey: $0) }
            state.byIndex = state.core.members.map { state.transports[$0.id]! }
            return (changes, closing)
        }
        ready.store(true, ordering: .releasing)
        if !changes.added.isEmpty || !changes.closeNow.isEmpty || !changes.revived.isEmpty {
            logger.info("endpoint set changed", metadata: [
                "source": "\(source)", "endpoints": "\(set.count)",
                "added": "\(changes.added.map(\.id).joined(separator: ","))",
                "closed": "\(changes.closeNow.joined(separator: ","))",
            ])
        }
        for transport in closing { await closeTransport(transport as! Transport) }
    }

    private func waitForFirstSet(_ method: MethodDescriptor) async throws {
        let clock = ContinuousClock()
        let giveUp = clock.now + configuration.discoveryWait
        while !ready.load(ordering: .acquiring) {
            guard clock.now < giveUp else {
                throw RPCError(.unavailable, "\(method) not sent: \(source) gave no endpoints within \(configuration.discoveryWait)",
                               requestWasNotSent: true)
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Refused, lost and timed-out calls count against the endpoint; an answer, even an
    /// error, shows it is up; a cancelled call shows nothing.
    static func outcome(of error: any Error) -> BalancerCore.Outcome {
        guard let error = error as? RPCError else { return error is CancellationError ? .abandoned : .answered }
        switch error.code {
        case .unavailable, .deadlineExceeded: return .endpointFault
        case .cancelled: return .abandoned
        default: return .answered
        }
    }

    /// Another endpoint may run it: it never left this client, or running it twice is harmless
    /// and this endpoint failed it.
    static func mayFailOver(_ error: any Error, idempotent: Bool) -> Bool {
        guard let error = error as? RPCError else { return false }
        return error.requestWasNotSent || (idempotent && error.code == .unavailable)
    }
}

/// `LoadBalancer`'s state. Outside the generic class, so not generic itself (a type nested in a
/// generic class is), with transports held as `any ClientTransport`: the balancer's code runs
/// unspecialized in the caller's module, where each generic type it touched per call cost a
/// metadata lookup.
private struct BalancerState {
    var core: BalancerCore
    /// Transports of the endpoints in the set and of those retiring.
    var transports: [String: any ClientTransport] = [:]
    /// The set's transports in `core.members` order: a pick finds its transport without hashing.
    var byIndex: [any ClientTransport] = []
    var closed = false
}

/// What `LoadBalancer.choose` found, in one concrete enum (a generic `Result` there cost
/// value-witness calls per call).
private enum BalancerChoice {
    case picked(BalancerCore.Pick, any ClientTransport)
    case none(BalancerCore.NoPick, now: Duration)
    case closed
}
