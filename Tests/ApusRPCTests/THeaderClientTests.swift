import ApusExamples
import ApusRPC
import ApusThrift
import ApusTransportPosix
import InMemoryTracing
import Synchronization
import Testing
import Tracing

/// The kernel-socket client in THeader and in TTHeader against the kernel-socket server:
/// metadata in, response headers out, and the caller's timeout ending the server's work.
@Suite struct THeaderClientTests {
    func client(port: Int, _ format: THeader.Format = .theader) -> PosixClientTransport {
        var configuration = PosixClientTransport.Configuration()
        configuration.header = format
        return PosixClientTransport(host: "127.0.0.1", port: port, configuration: configuration)
    }

    @Test(arguments: THeader.Format.allCases)
    func metadataGoesInAndResponseHeadersComeBack(_ format: THeader.Format) async throws {
        try await withServer(router: exampleRouter()) { (port, _) async throws in
            let transport = client(port: port, format)
            defer { Task { await transport.close() } }
            let reply = ResponseMetadata()
            let options = CallOptions(metadata: ["request-id": "r-1", "tenant": "blue"], responseMetadata: reply)
            #expect(try await Echo.Client(transport).echo(message: "hi", options: options) == "hi")
            var expected = ["echo-request-id": "r-1", "echo-tenant": "blue"]
            if format == .ttheader { expected["echo-int-9"] = "echo" }  // the method, as Kitex sends it
            #expect(reply.all == expected)
            let payload = [UInt8](repeating: 7, count: 1 << 20)
            #expect(try await Echo.Client(transport).echoBinary(payload: payload) == payload)
        }
    }

    /// A handler that calls another service passes its caller's deadline on: no timeout given,
    /// the downstream call still ends when the first caller's time is up, and a call made
    /// after it is not sent at all.
    @Test(arguments: THeader.Format.allCases)
    func aHandlersDownstreamCallInheritsItsDeadline(_ format: THeader.Format) async throws {
        let downstream = ScriptedEcho()
        try await withServer(router: exampleRouter(echo: downstream)) { (downstreamPort, _) async throws in
            let relay = Relay(transport: client(port: downstreamPort, format))
            try await withServer(router: exampleRouter(echo: relay)) { (port, _) async throws in
                let transport = client(port: port, format)
                defer { Task { await transport.close() } }
                await expectRPCError(.deadlineExceeded) {
                    try await Echo.Client(transport).echo(message: "slow:60000", options: CallOptions(timeout: .milliseconds(200)))
                }
                for _ in 0..<1000 where downstream.cancelled.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(5)) }
                #expect(downstream.cancelled.load(ordering: .relaxed) == 1, "the downstream server gave up at the first caller's deadline")
                #expect(relay.seenTimeouts.withLock { $0.first.map { $0 > 0 && $0 <= 200 } } == true,
                        "the timeout downstream was the time left: \(relay.seenTimeouts.withLock { $0 })")
                if format == .ttheader { #expect(relay.seenMethods.withLock { $0 } == ["echo"], "int key 9 named the method") }
            }
            await relay.transport.close()
        }
        let expired = try await CallDeadline.$current.withValue(ContinuousClock.now - .seconds(1)) {
            try await withServer(router: exampleRouter()) { (port, _) async throws -> RPCError? in
                let transport = client(port: port, format)
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

    @Test(arguments: THeader.Format.allCases)
    func theCallersTimeoutCancelsTheServersHandler(_ format: THeader.Format) async throws {
        let handler = ScriptedEcho()
        try await withServer(router: exampleRouter(echo: handler)) { (port, _) async throws in
            let transport = client(port: port, format)
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
/// timeout its own caller sent (THeader's `client_timeout`, TTHeader's int key 12) and, in
/// TTHeader, the method named by int key 9.
final class Relay: Echo.ServiceProtocol {
    let transport: PosixClientTransport
    let tracer: (any Tracer)?
    let seenTimeouts = Mutex<[Int]>([])
    let seenMethods = Mutex<[String]>([])

    init(transport: PosixClientTransport, tracer: (any Tracer)? = nil) {
        self.transport = transport
        self.tracer = tracer
    }

    func echo(message: String, context: ServerContext) async throws -> String {
        if let value = context.metadata[ServerDispatcher.clientTimeoutHeader] ?? context.intMetadata[THeader.TTKey.rpcTimeout],
           let ms = Int(value) {
            seenTimeouts.withLock { $0.append(ms) }
        }
        if let method = context.intMetadata[THeader.TTKey.toMethod] { seenMethods.withLock { $0.append(method) } }
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
    @Test(arguments: THeader.Format.allCases)
    func spansAcrossTwoHopsFormOneTrace(_ format: THeader.Format) async throws {
        let tracer = InMemoryTracer()
        let tracing: @Sendable (Router) -> Layered<TracingMiddleware, Router> = { $0.layer(TracingMiddleware(tracer: tracer)) }
        try await withServer(router: exampleRouter(), middleware: tracing) { (downstreamPort, _) async throws in
            let relay = Relay(transport: THeaderClientTests().client(port: downstreamPort, format), tracer: tracer)
            try await withServer(router: exampleRouter(echo: relay), middleware: tracing) { (port, _) async throws in
                let transport = ClientTracing(THeaderClientTests().client(port: port, format), tracer: tracer)
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
