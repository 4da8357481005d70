import Synchronization

/// Rejects calls beyond `maxConcurrentCalls` running at once with
/// `resourceExhausted`, instead of queueing them: a client sees the overload
/// at once and can back off or go elsewhere.
public struct ConcurrencyLimitMiddleware: RPCMiddleware {
    public let maxConcurrentCalls: Int
    private let running: Counter

    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    public init(maxConcurrentCalls: Int) {
        precondition(maxConcurrentCalls >= 1)
        self.maxConcurrentCalls = maxConcurrentCalls
        self.running = Counter()
    }

    /// Calls running now behind this limit.
    public var runningCalls: Int { running.value.load(ordering: .relaxed) }

    public func intercept<Next: RPCHandler>(_ request: ServerRequest, context: ServerContext, next: Next) async throws -> ServerResponse {
        let now = running.value.wrappingAdd(1, ordering: .relaxed).newValue
        defer { running.value.subtract(1, ordering: .relaxed) }
        guard now <= maxConcurrentCalls else {
            throw RPCError(.resourceExhausted, "concurrency limit reached (\(maxConcurrentCalls) call\(maxConcurrentCalls == 1 ? "" : "s") at once); \(request.method) rejected, try again later")
        }
        return try await next.handle(request, context: context)
    }
}
