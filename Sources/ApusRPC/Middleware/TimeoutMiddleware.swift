/// Bounds how long a call may run: sets the context's deadline (keeping an
/// earlier one) and, when it passes, cancels the handler and answers
/// `deadlineExceeded`. The handler sees the deadline in `context.deadline`
/// and cancellation through `Task.isCancelled` / `context.isCancelled`.
public struct TimeoutMiddleware: RPCMiddleware {
    public let timeout: Duration

    public init(_ timeout: Duration) { self.timeout = timeout }

    public func intercept<Next: RPCHandler>(_ request: ServerRequest, context: ServerContext, next: Next) async throws -> ServerResponse {
        var context = context
        let deadline = ContinuousClock.now.advanced(by: timeout)
        context.deadline = min(context.deadline ?? deadline, deadline)
        let limitedContext = context
        return try await withThrowingTaskGroup(of: ServerResponse?.self) { group in
            group.addTask {
                try await CallDeadline.$current.withValue(limitedContext.deadline) {
                    try await next.handle(request, context: limitedContext)
                }
            }
            group.addTask {
                try await Task.sleep(until: limitedContext.deadline!, clock: .continuous)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let response = first else {
                throw RPCError(.deadlineExceeded, "\(request.method) did not finish within \(timeout.humanReadable)")
            }
            return response
        }
    }
}
