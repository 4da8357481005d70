/// A handler chain behind a class reference (see `ServerDispatcher.chain`).
class HandlerChain: @unchecked Sendable {
    static func boxing(_ handler: some RPCHandler) -> HandlerChain { Boxed(handler) }

    func handle(_ request: ServerRequest, context: ServerContext) async throws -> ServerResponse {
        preconditionFailure("HandlerChain is abstract")
    }

    private final class Boxed<Handler: RPCHandler>: HandlerChain, @unchecked Sendable {
        let handler: Handler
        init(_ handler: Handler) { self.handler = handler }

        override func handle(_ request: ServerRequest, context: ServerContext) async throws -> ServerResponse {
            try await handler.handle(request, context: context)
        }
    }
}
