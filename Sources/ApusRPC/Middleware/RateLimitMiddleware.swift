import Synchronization

/// A token bucket: `ratePerSecond` calls on average, bursts of up to `burst`.
/// Calls finding the bucket empty are rejected with `resourceExhausted`
/// ("rate limit ... exceeded") rather than delayed, so latency stays bounded.
public struct RateLimitMiddleware: RPCMiddleware {
    public let ratePerSecond: Double
    public let burst: Double
    private let bucket: Bucket

    final class Bucket: Sendable {
        struct State {
            var tokens: Double
            var refilledAt: ContinuousClock.Instant
        }
        let state: Mutex<State>
        init(tokens: Double) { state = Mutex(State(tokens: tokens, refilledAt: .now)) }
    }

    public init(ratePerSecond: Double, burst: Int) {
        precondition(ratePerSecond >= 0 && burst >= 1)
        self.ratePerSecond = ratePerSecond
        self.burst = Double(burst)
        self.bucket = Bucket(tokens: Double(burst))
    }

    func take() -> Bool {
        let now = ContinuousClock.now
        return bucket.state.withLock { state in
            let elapsed = state.refilledAt.duration(to: now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            state.tokens = min(burst, state.tokens + seconds * ratePerSecond)
            state.refilledAt = now
            guard state.tokens >= 1 else { return false }
            state.tokens -= 1
            return true
        }
    }

    public func intercept<Next: RPCHandler>(_ request: ServerRequest, context: ServerContext, next: Next) async throws -> ServerResponse {
        guard take() else {
            throw RPCError(.resourceExhausted, "rate limit of \(ratePerSecond)/s (burst \(Int(burst))) exceeded; \(request.method) rejected")
        }
        return try await next.handle(request, context: context)
    }
}
