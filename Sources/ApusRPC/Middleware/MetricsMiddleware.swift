import Metrics

/// swift-metrics for every call, with `service` and `method` dimensions:
/// `apus_rpc_requests_total` (counter), `apus_rpc_errors_total` (counter, plus
/// a `code` dimension: an RPC error code, or `exception` for declared and
/// undeclared handler errors), `apus_rpc_duration` (timer, nanoseconds) and
/// `apus_rpc_in_flight` (meter).
public struct MetricsMiddleware: RPCMiddleware {
    public let prefix: String
    let factory: (any MetricsFactory)?

    /// Uses the bootstrapped `MetricsSystem`, or `factory` when given (tests).
    public init(prefix: String = "apus_rpc", factory: (any MetricsFactory)? = nil) {
        self.prefix = prefix
        self.factory = factory
    }

    private func counter(_ name: String, _ dimensions: [(String, String)]) -> Counter {
        if let factory { return Counter(label: "\(prefix)_\(name)", dimensions: dimensions, factory: factory) }
        return Counter(label: "\(prefix)_\(name)", dimensions: dimensions)
    }

    public func intercept<Next: RPCHandler>(_ request: ServerRequest, context: ServerContext, next: Next) async throws -> ServerResponse {
        let dimensions = [("service", request.method.service), ("method", request.method.method)]
        let inFlight = factory.map { Meter(label: "\(prefix)_in_flight", dimensions: dimensions, factory: $0) }
            ?? Meter(label: "\(prefix)_in_flight", dimensions: dimensions)
        let timer = factory.map { Metrics.Timer(label: "\(prefix)_duration", dimensions: dimensions, factory: $0) }
            ?? Metrics.Timer(label: "\(prefix)_duration", dimensions: dimensions)
        counter("requests_total", dimensions).increment()
        inFlight.increment()
        let start = ContinuousClock.now
        defer {
            inFlight.decrement()
            let elapsed = start.duration(to: .now)
            timer.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        }
        do {
            return try await next.handle(request, context: context)
        } catch {
            let code = (error as? RPCError).map { "\($0.code)" } ?? "exception"
            counter("errors_total", dimensions + [("code", code)]).increment()
            throw error
        }
    }
}
