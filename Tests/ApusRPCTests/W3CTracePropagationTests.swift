import ApusExamples
import ApusRPC
import ApusThrift
import InMemoryTracing
import Synchronization
import Testing
import Tracing
import W3CTraceContext

/// An in-memory tracer whose propagation is W3C Trace Context (`traceparent`, `tracestate`),
/// written and parsed by swift-otel's swift-w3c-trace-context: what an OpenTelemetry tracer
/// (swift-otel's W3C propagator, any OTel SDK) puts in and reads from a call's headers.
struct W3CInMemoryTracer: Tracer {
    let base = InMemoryTracer(idGenerator: .init(nextTraceID: { TraceID.random().description },
                                                 nextSpanID: { SpanID.random().description }))

    func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> InMemorySpan {
        base.startSpan(operationName, context: context(), ofKind: kind, at: instant(), function: function, file: fileID, line: line)
    }

    func forceFlush() { base.forceFlush() }

    func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Carrier == Inject.Carrier {
        guard let span = context.inMemorySpanContext,
              let trace = try? TraceContext(traceParentHeaderValue: "00-\(span.traceID)-\(span.spanID)-01",
                                            traceStateHeaderValue: "apus=test")
        else { return }
        injector.inject(trace.traceParentHeaderValue, forKey: "traceparent", into: &carrier)
        if let state = trace.traceStateHeaderValue { injector.inject(state, forKey: "tracestate", into: &carrier) }
    }

    func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Carrier == Extract.Carrier {
        guard let parent = extractor.extract(key: "traceparent", from: carrier),
              let trace = try? TraceContext(traceParentHeaderValue: parent,
                                            traceStateHeaderValue: extractor.extract(key: "tracestate", from: carrier))
        else { return }
        context.inMemorySpanContext = InMemorySpanContext(traceID: trace.traceID.description, spanID: trace.spanID.description,
                                                          parentSpanID: nil)
    }
}

/// A caller that speaks W3C Trace Context but is no Apus client (here: the spec's own example
/// `traceparent`, sent as a plain header) reaches a traced Apus server; the server's span joins
/// that trace, and the call its handler makes downstream carries the trace on, with the server
/// span as the parent — in THeader and in TTHeader.
@Suite struct W3CTracePropagationTests {
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"  // W3C Trace Context §3.2, the example
    static let callerSpanID = "00f067aa0ba902b7"

    @Test(arguments: THeader.Format.allCases)
    func aW3CTraceparentFromTheCallerIsContinuedAcrossTwoHops(_ format: THeader.Format) async throws {
        let tracer = W3CInMemoryTracer()
        let tracing: @Sendable (Router) -> Layered<TracingMiddleware, Router> = { $0.layer(TracingMiddleware(tracer: tracer)) }
        let downstream = EchoRecorder()
        try await withServer(router: exampleRouter(echo: downstream), middleware: tracing) { (downstreamPort, _) async throws in
            let relay = Relay(transport: THeaderClientTests().client(port: downstreamPort, format), tracer: tracer)
            try await withServer(router: exampleRouter(echo: relay), middleware: tracing) { (port, _) async throws in
                let transport = THeaderClientTests().client(port: port, format)
                let options = CallOptions(metadata: ["traceparent": "00-\(Self.traceID)-\(Self.callerSpanID)-01",
                                                     "tracestate": "vendor=1"])
                #expect(try await Echo.Client(transport).echo(message: "traced", options: options) == "traced")
                await transport.close()
            }
            await relay.transport.close()
        }
        let spans = tracer.base.finishedSpans
        let server = try #require(spans.first { $0.kind == .server && $0.spanContext.parentSpanID == Self.callerSpanID })
        #expect(server.traceID == Self.traceID)
        let client = try #require(spans.first { $0.kind == .client && $0.spanContext.parentSpanID == server.spanID })
        let parents = downstream.seenTraceParents.withLock { $0 }
        let sent = try TraceContext(traceParentHeaderValue: try #require(parents.first))
        #expect(sent.traceID.description == Self.traceID, "the downstream call carried the caller's trace")
        #expect(sent.spanID.description == client.spanID, "with the relay's client span as its parent")
        let downstreamServer = try #require(spans.first { $0.kind == .server && $0.spanContext.parentSpanID == client.spanID })
        #expect(downstreamServer.traceID == Self.traceID)
    }
}

/// Echo that records the `traceparent` each call came with (the downstream end of the chain).
final class EchoRecorder: Echo.ServiceProtocol {
    let seenTraceParents = Mutex<[String]>([])

    func echo(message: String, context: ServerContext) async throws -> String {
        if let parent = context.metadata["traceparent"] { seenTraceParents.withLock { $0.append(parent) } }
        return message
    }
    func echoBinary(payload: [UInt8], context: ServerContext) async throws -> [UInt8] { payload }
    func echoItem(item: Item, context: ServerContext) async throws -> Item { item }
    func ping(context: ServerContext) async throws {}
    func fire(id: Int64, context: ServerContext) async throws {}
    func firedCount(context: ServerContext) async throws -> Int64 { 0 }
}
