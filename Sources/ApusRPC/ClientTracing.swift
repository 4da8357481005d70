import ApusThrift
import Tracing

/// One client span per call, named `Service/method`, whose context travels with the call:
/// the bootstrapped tracer injects it into `CallOptions.metadata` (THeader info headers; with
/// swift-otel, W3C `traceparent`/`tracestate`), and the server's `TracingMiddleware`
/// extracts it as its span's parent. Client span, server span and the server's own
/// downstream calls then form one trace.
public struct ClientTracing<Inner: ClientTransport>: ClientTransport {
    public let inner: Inner
    let tracer: (any Tracer)?

    /// Traces through the bootstrapped `InstrumentationSystem`, or `tracer` when given.
    public init(_ inner: Inner, tracer: (any Tracer)? = nil) {
        self.inner = inner
        self.tracer = tracer
    }

    public func call<Reply: Sendable>(
        _ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions,
        decode: @escaping @Sendable (borrowing IncomingMessage) throws(RPCError) -> Reply
    ) async throws -> Reply {
        let tracer = self.tracer ?? InstrumentationSystem.tracer
        return try await tracer.withAnySpan("\(method.service)/\(method.method)", ofKind: .client) { span in
            span.attributes["rpc.system"] = "apache_thrift"
            span.attributes["rpc.service"] = method.service
            span.attributes["rpc.method"] = method.method
            var options = options
            tracer.inject(span.context, into: &options.metadata, using: MetadataInjector())
            return try await inner.call(request, method: method, options: options, decode: decode)
        }
    }

    public func callOneway(_ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions) async throws {
        let tracer = self.tracer ?? InstrumentationSystem.tracer
        try await tracer.withAnySpan("\(method.service)/\(method.method)", ofKind: .producer) { span in
            var options = options
            tracer.inject(span.context, into: &options.metadata, using: MetadataInjector())
            try await inner.callOneway(request, method: method, options: options)
        }
    }
}

/// Writes propagation fields (trace context, baggage) into call metadata.
public struct MetadataInjector: Injector {
    public init() {}
    public func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

/// Reads propagation fields from a call's metadata.
public struct MetadataExtractor: Extractor {
    public init() {}
    public func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}
