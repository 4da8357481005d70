import Metrics
import Synchronization

/// swift-metrics for every call, with `service` and `method` dimensions:
/// `apus_rpc_calls_total` (counter), `apus_rpc_errors_total` (counter, plus
/// a `code` dimension: an RPC error code, or `exception` for declared and
/// undeclared handler errors), `apus_rpc_duration_seconds` (timer) and
/// `apus_rpc_in_flight` (meter).
///
/// A method's handles are made on its first call and kept (copies of the middleware share
/// them): a metrics backend registers each label and dimension set once, and a call costs
/// a lookup, not four objects and the backend's registration lock.
public struct MetricsMiddleware: RPCMiddleware {
    public let prefix: String
    let factory: (any MetricsFactory)?
    private let cache = Cache()

    /// One method's handles.
    private struct Handles: Sendable {
        let requests: Counter
        let inFlight: Meter
        let duration: Metrics.Timer
    }

    private final class Cache: Sendable {
        let methods = Mutex<[MethodDescriptor: Handles]>([:])
        /// Error counters by method and code, made on the first error of each.
        let errors = Mutex<[ErrorKey: Counter]>([:])
    }

    private struct ErrorKey: Hashable {
        let method: MethodDescriptor
        let code: String
    }

    /// Uses the bootstrapped `MetricsSystem`, or `factory` when given (tests).
    public init(prefix: String = "apus_rpc", factory: (any MetricsFactory)? = nil) {
        self.prefix = prefix
        self.factory = factory
    }

    private func counter(_ name: String, _ dimensions: [(String, String)]) -> Counter {
        if let factory { return Counter(label: "\(prefix)_\(name)", dimensions: dimensions, factory: factory) }
        return Counter(label: "\(prefix)_\(name)", dimensions: dimensions)
    }

    private func handles(for method: MethodDescriptor) -> Handles {
        if let handles = cache.methods.withLock({ $0[method] }) { return handles }
        let dimensions = [("service", method.service), ("method", method.method)]
        let made = Handles(
            requests: counter("calls_total", dimensions),
            inFlight: factory.map { Meter(label: "\(prefix)_in_flight", dimensions: dimensions, factory: $0) }
                ?? Meter(label: "\(prefix)_in_flight", dimensions: dimensions),
            duration: factory.map { Metrics.Timer(label: "\(prefix)_duration_seconds", dimensions: dimensions, factory: $0) }
                ?? Metrics.Timer(label: "\(prefix)_duration_seconds", dimensions: dimensions))
        // Two first calls may race: the first handles stored win, so both record into the same.
        return cache.methods.withLock { methods in
            if let stored = methods[method] { return stored }
            methods[method] = made
            return made
        }
    }

    private func errorCounter(for method: MethodDescriptor, code: String) -> Counter {
        let key = ErrorKey(method: method, code: code)
        if let counter = cache.errors.withLock({ $0[key] }) { return counter }
        let made = counter("errors_total", [("service", method.service), ("method", method.method), ("code", code)])
        return cache.errors.withLock { errors in
            if let stored = errors[key] { return stored }
            errors[key] = made
            return made
        }
    }

    public func intercept<Next: RPCHandler>(_ request: ServerRequest, context: ServerContext, next: Next) async throws -> ServerResponse {
        let handles = handles(for: request.method)
        handles.requests.increment()
        handles.inFlight.increment()
        let start = ContinuousClock.now
        defer {
            handles.inFlight.decrement()
            let elapsed = start.duration(to: .now)
            handles.duration.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        }
        do {
            return try await next.handle(request, context: context)
        } catch {
            let code = (error as? RPCError).map { "\($0.code)" } ?? "exception"
            errorCounter(for: request.method, code: code).increment()
            throw error
        }
    }
}
