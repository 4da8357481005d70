import ApusRPC

/// Sleeps before passing each call on: a slow server for tests of load balancing and
/// timeouts (`apus serve --echo-delay` puts one around `Echo.echo`). The sleep observes
/// cancellation, so a call whose deadline passes ends at once.
public struct DelayMiddleware: RPCMiddleware {
    public let delay: Duration

    public init(_ delay: Duration) { self.delay = delay }

    public func intercept<Next: RPCHandler>(_ request: ServerRequest, context: ServerContext, next: Next) async throws -> ServerResponse {
        if delay > .zero { try await Task.sleep(for: delay) }
        return try await next.handle(request, context: context)
    }
}
