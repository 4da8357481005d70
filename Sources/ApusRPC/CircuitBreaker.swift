import ApusThrift
import Synchronization

/// Stops calling a server that keeps failing, and probes it before trusting it again.
///
/// Closed: calls pass; `failureThreshold` consecutive server or transport
/// failures (`RPCError.isServerOrTransportFailure`) open the breaker. Open:
/// calls fail at once with `.unavailable` ("circuit breaker open") for
/// `openDuration`. Half-open: one probe call passes; its success closes the
/// breaker, its failure opens it again. Declared exceptions and per-request
/// errors (unknown method, protocol error) count as answers, not failures.
public final class CircuitBreakerState: Sendable {
    public enum Phase: Sendable, Equatable { case closed, open, halfOpen }

    public let failureThreshold: Int
    public let openDuration: Duration
    private let state: Mutex<State>

    private struct State {
        var phase: Phase = .closed
        var consecutiveFailures = 0
        var openedAt: ContinuousClock.Instant?
        var probeInFlight = false
    }

    public init(failureThreshold: Int = 5, openDuration: Duration = .seconds(5)) {
        precondition(failureThreshold >= 1)
        self.failureThreshold = failureThreshold
        self.openDuration = openDuration
        self.state = Mutex(State())
    }

    /// The phase now (an open breaker whose time is up reports half-open).
    public var phase: Phase {
        state.withLock { state in
            if state.phase == .open, let openedAt = state.openedAt, ContinuousClock.now >= openedAt + openDuration {
                return .halfOpen
            }
            return state.phase
        }
    }

    /// Admits a call, or says how long the breaker stays open. True means
    /// the call is the half-open probe.
    func admit() -> Result<Bool, RPCError> {
        state.withLock { state in
            switch state.phase {
            case .closed:
                return .success(false)
            case .open:
                let reopensAt = state.openedAt! + openDuration
                let now = ContinuousClock.now
                guard now >= reopensAt else {
                    return .failure(RPCError(.unavailable, "circuit breaker open for another \(now.duration(to: reopensAt))",
                                             requestWasNotSent: true))
                }
                state.phase = .halfOpen
                state.probeInFlight = true
                return .success(true)
            case .halfOpen:
                guard !state.probeInFlight else {
                    return .failure(RPCError(.unavailable, "circuit breaker half-open, waiting for its probe", requestWasNotSent: true))
                }
                state.probeInFlight = true
                return .success(true)
            }
        }
    }

    func record(success: Bool, probe: Bool) {
        state.withLock { state in
            if probe { state.probeInFlight = false }
            if success {
                state.consecutiveFailures = 0
                if probe || state.phase == .halfOpen { state.phase = .closed; state.openedAt = nil }
                return
            }
            state.consecutiveFailures += 1
            if probe || state.phase == .halfOpen || state.consecutiveFailures >= failureThreshold {
                state.phase = .open
                state.openedAt = ContinuousClock.now
            }
        }
    }
}

public struct CircuitBreaker<Inner: ClientTransport>: ClientTransport {
    public let inner: Inner
    public let state: CircuitBreakerState

    public init(_ inner: Inner, state: CircuitBreakerState = CircuitBreakerState()) {
        self.inner = inner
        self.state = state
    }

    private func guarded<T>(_ body: () async throws -> T) async throws -> T {
        let probe = try state.admit().get()
        do {
            let value = try await body()
            state.record(success: true, probe: probe)
            return value
        } catch let error as RPCError where error.isServerOrTransportFailure {
            state.record(success: false, probe: probe)
            throw error
        } catch {
            state.record(success: true, probe: probe)
            throw error
        }
    }

    public func call<Reply: Sendable>(
        _ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions,
        decode: @escaping @Sendable (borrowing IncomingMessage) throws(RPCError) -> Reply
    ) async throws -> Reply {
        try await guarded { try await inner.call(request, method: method, options: options, decode: decode) }
    }

    public func callOneway(_ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions) async throws {
        try await guarded { try await inner.callOneway(request, method: method, options: options) }
    }
}
