import Tracing

/// One server span per call, named `Service/method`, carrying the method,
/// sequence id and peer as attributes; errors are recorded on the span. Its parent is the
/// caller's span when the call's metadata carries one (THeader info headers written by
/// `ClientTracing`, or by any client whose tracer uses the same propagation, e.g. W3C
/// `traceparent`); calls the handler makes run inside it.
public struct TracingMiddleware: RPCMiddleware {
    let tracer: (any Tracer)?

    /// Traces through the bootstrapped `InstrumentationSystem`, or `tracer` when given.
    public init(tracer: (any Tracer)? = nil) { self.tracer = tracer }

    public func intercept<Next: RPCHandler>(_ request: ServerRequest, context: ServerContext, next: Next) async throws -> ServerResponse {
        let tracer = self.tracer ?? InstrumentationSystem.tracer
        var parent = ServiceContext.current ?? .topLevel
        if !context.metadata.isEmpty { tracer.extract(context.metadata, into: &parent, using: MetadataExtractor()) }
        return try await tracer.withAnySpan("\(request.method.service)/\(request.method.method)", context: parent,
                                            ofKind: .server) { span in
            span.attributes["rpc.system"] = "apache_thrift"
            span.attributes["rpc.service"] = request.method.service
            span.attributes["rpc.method"] = request.method.method
            span.attributes["rpc.thrift.seqid"] = Int64(context.sequenceID)
            span.attributes["net.peer"] = context.remotePeer.description
            return try await next.handle(request, context: context)
        }
    }
}
