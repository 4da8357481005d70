import ApusExamples
import ApusRPC
import ApusThrift
import ApusTransportPosix
import InMemoryTracing
import Synchronization
import Testing
import Tracing

/// The kernel-socket client in THeader against the kernel-socket server: metadata in, response
/// headers out, and the caller's timeout ending the server's work.
@Suite struct THeaderClientTests {
    func client(port: Int) -> PosixClientTransport {
        var configuration = PosixClientTransport.Configuration()
        configuration.theader = true
        return PosixClientTransport(host: "127.0.0.1", port: port, configuration: configuration)
    }

    @Test func metadataGoesInAndResponseHeadersComeBack() async throws {
        try await withServer(router: exampleRouter()) { (port, _) async throws in
            let transport = client(port: port)
            defer { Task { await transport.close() } }
            let reply = ResponseMetadata()
            let options = CallOptions(metadata: ["request-id": "r-1", "tenant": "blue"], responseMetadata: reply)
            #expect(try await Echo.Client(transport).echo(message: "hi", options: options) == "hi")
            #expect(reply.all == ["echo-request-id": "r-1", "echo-tenant": "blue"])
            let payload = [UInt8](repeating: 7, count: 1 << 20)
            #expect(try await Echo.Client(transport).echoBinary(payload: payload) == payload)
        }
    }

    /// A handler that calls another service passes its caller's deadline on: no timeout given,
    /// the downstream call still ends when the first caller's time is up, and a call made
    /// after it is not sent at all.
    @Test func aHandlersDownstreamCallInheritsItsDeadline() async throws {
        let downstream = ScriptedEcho()
        try await withServer(router: exampleRouter(echo: downstream)) { (downstreamPort, _) async throws in
            let relay = Relay(transport: client(port: downstreamPort))
            try await withServer(router: exampleRouter(echo: relay)) { (port, _) async throws in
                let transport = client(port: port)
                defer { Task { await transport.close() } }
                await expectRPCError(.deadlineExceeded) {
                    try await Echo.Client(transport).echo(message: "slow:60000", options: CallOptions(timeout: .milliseconds(200)))
                }
                for _ in 0..<1000 where downstream.cancelled.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(5)) }
                #expect(downstream.cancelled.load(ordering: .relaxed) == 1, "the downstream server gave up at the first caller's deadline")
                #expect(relay.seenTimeouts.withLock { $0.first.map { $0 > 0 && $0 <= 200 } } == true,
                        "client_timeout downstream was the time left: \(relay.seenTimeouts.withLock { $0 })")
            }
            await relay.transport.close()
        }
        let expired = try await CallDeadline.$current.withValue(ContinuousClock.now - .seconds(1)) {
            try await withServer(router: exampleRouter()) { (port, _) async throws -> RPCError? in
                let transport = client(port: port)
                defer { Task { await transport.close() } }
                do {
                    _ = try await Echo.Client(transport).echo(message: "x")
                    return nil
                } catch let error as RPCError {
                    return error
                }
            }
        }
        #expect(expired?.code == .deadlineExceeded && expired?.requestWasNotSent == true)
    }

    @Test func theCallersTimeoutCancelsTheServersHandler() async throws {
        let handler = ScriptedEcho()
        try await withServer(router: exampleRouter(echo: handler)) { (port, _) async throws in
            let transport = client(port: port)
            defer { Task { await transport.close() } }
            await expectRPCError(.deadlineExceeded) {
                try await Echo.Client(transport).echo(message: "slow:60000", options: CallOptions(timeout: .milliseconds(100)))
            }
            for _ in 0..<1000 where handler.cancelled.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(5)) }
            #expect(handler.cancelled.load(ordering: .relaxed) == 1, "the server gave up at the caller's deadline (client_timeout)")
        }
    }
}

/// Echo that forwards `echo` to another server with no timeout of its own, noting the
/// `client_timeout` its own caller sent.
final class Relay: Echo.ServiceProtocol {
    let transport: PosixClientTransport
    let tracer: InMemoryTracer?
    let seenTimeouts = Mutex<[Int]>([])

    init(transport: PosixClientTransport, tracer: InMemoryTracer? = nil) {
        self.transport = transport
        self.tracer = tracer
    }

    func echo(message: String, context: ServerContext) async throws -> String {
        if let value = context.metadata[ServerDispatcher.clientTimeoutHeader], let ms = Int(value) {
            seenTimeouts.withLock { $0.append(ms) }
        }
        if let tracer { return try await Echo.Client(ClientTracing(transport, tracer: tracer)).echo(message: message) }
        return try await Echo.Client(transport).echo(message: message)
    }
    func echoBinary(payload: [UInt8], context: ServerContext) async throws -> [UInt8] { payload }
    func echoItem(item: Item, context: ServerContext) async throws -> Item { item }
    func ping(context: ServerContext) async throws {}
    func fire(id: Int64, context: ServerContext) async throws {}
    func firedCount(context: ServerContext) async throws -> Int64 { 0 }
}

/// Client span -> server span -> the handler's downstream client span -> downstream server
/// span: one trace, each the parent of the next, carried in THeader metadata.
@Suite struct TracePropagationTests {
    @Test func spansAcrossTwoHopsFormOneTrace() async throws {
        let tracer = InMemoryTracer()
        let tracing: @Sendable (Router) -> Layered<TracingMiddleware, Router> = { $0.layer(TracingMiddleware(tracer: tracer)) }
        try await withServer(router: exampleRouter(), middleware: tracing) { (downstreamPort, _) async throws in
            let relay = Relay(transport: THeaderClientTests().client(port: downstreamPort), tracer: tracer)
            try await withServer(router: exampleRouter(echo: relay), middleware: tracing) { (port, _) async throws in
                let transport = ClientTracing(THeaderClientTests().client(port: port), tracer: tracer)
                #expect(try await Echo.Client(transport).echo(message: "traced") == "traced")
                await transport.inner.close()
            }
            await relay.transport.close()
        }
        let spans = tracer.finishedSpans
        let client = try #require(spans.first { $0.kind == .client && $0.spanContext.parentSpanID == nil })
        let server = try #require(spans.first { $0.kind == .server && $0.spanContext.parentSpanID == client.spanContext.spanID })
        let downstreamClient = try #require(spans.first { $0.kind == .client && $0.spanContext.parentSpanID == server.spanContext.spanID })
        let downstreamServer = try #require(spans.first {
            $0.kind == .server && $0.spanContext.parentSpanID == downstreamClient.spanContext.spanID
        })
        #expect(Set([client, server, downstreamClient, downstreamServer].map(\.spanContext.traceID)).count == 1)
        #expect(downstreamServer.operationName == "Echo/echo")
    }
}
