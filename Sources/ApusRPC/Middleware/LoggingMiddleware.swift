import Logging

/// Logs each call once it finished: method, sequence id, peer, duration and
/// outcome (`ok`, or the error). Successful calls log at `level`, failures
/// at `.warning` (RPC errors) or `.error` (undeclared errors).
public struct LoggingMiddleware: RPCMiddleware {
    public let logger: Logger?
    public let level: Logger.Level

    /// Logs through `logger`, or the context's logger when nil.
    public init(logger: Logger? = nil, level: Logger.Level = .info) {
        self.logger = logger
        self.level = level
    }

    public func intercept<Next: RPCHandler>(_ request: ServerRequest, context: ServerContext, next: Next) async throws -> ServerResponse {
        let logger = self.logger ?? context.logger
        let start = ContinuousClock.now
        func metadata(_ outcome: String) -> Logger.Metadata {
            [
                "method": "\(request.method)", "seqid": "\(context.sequenceID)", "peer": "\(context.remotePeer)",
                "duration": "\(start.duration(to: .now).humanReadable)", "outcome": "\(outcome)",
            ]
        }
        do {
            let response = try await next.handle(request, context: context)
            logger.log(level: level, "call", metadata: metadata("ok"))
            return response
        } catch let error as RPCError {
            logger.warning("call failed", metadata: metadata("\(error)"))
            throw error
        } catch {
            logger.log(level: level, "call ended with an exception", metadata: metadata("\(error)"))
            throw error
        }
    }
}
