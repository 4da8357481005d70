import ApusExamples
import ApusRPC
import ApusThrift
import Synchronization
import Testing

/// ApusRPC end to end without NIO: generated clients, `RPCServer`, router and
/// middleware over the in-process transport, whose bytes go through the same
/// stream cores as the network transports'.
@Suite struct InProcessTransportTests {
    func withServer<T>(echo: some Echo.ServiceProtocol = ScriptedEcho(), framing: ThriftFraming = .framed,
                       protocol protocolID: ThriftProtocolID = .binary,
                       _ body: (InProcessServerTransport) async throws -> T) async throws -> T {
        let transport = InProcessServerTransport(framing: framing, protocol: protocolID)
        let server = RPCServer(transport: transport, router: exampleRouter(echo: echo), gracePeriod: .seconds(5),
                               logger: ServerContext.silentLogger)
        let running = Task { try await server.run() }
        _ = try await server.listeningAddress
        defer { server.beginGracefulShutdown() }
        let result = try await body(transport)
        server.beginGracefulShutdown()
        try await running.value
        return result
    }

    @Test(arguments: [ThriftProtocolID.binary, .compact], [ThriftFraming.framed, .buffered])
    func everyKindOfReplyComesBack(protocolID: ThriftProtocolID, framing: ThriftFraming) async throws {
        try await withServer(framing: framing, protocol: protocolID) { (transport: InProcessServerTransport) async throws in
            let client = transport.makeClient()
            let echo = Echo.Client(client)
            let kv = KV.Client(client)
            #expect(try await echo.echo(message: "héllo") == "héllo")
            let payload = (0..<100_000).map { UInt8(truncatingIfNeeded: $0) }
            #expect(try await echo.echoBinary(payload: payload) == payload)
            try await kv.put(key: "k", value: [1])
            #expect(try await kv.get(key: "k") == [1])
            await #expect(throws: NotFound(key: "none")) { try await kv.get(key: "none") }
            await expectRPCError(.internalError) { try await echo.echo(message: "fail") }
            await expectRPCError(.unknownMethod) {
                try await client.call(EmptyStruct(), method: MethodDescriptor(service: "Echo", method: "nope", kind: .call),
                                      options: .defaults, result: Echo.PingResult.self)
            }
            #expect(try await echo.echo(message: "still fine") == "still fine")
        }
    }

    @Test func manyConcurrentCallsOnOneConnectionEachGetTheirOwnReply() async throws {
        try await withServer { (transport: InProcessServerTransport) async throws in
            let echo = Echo.Client(transport.makeClient())
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<200 {
                    group.addTask { () async throws -> Void in
                        let message = index % 10 == 0 ? "slow:\(index % 30)" : "call \(index)"
                        let got = try await echo.echo(message: message)
                        #expect(got == message)
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func aCallPastItsTimeoutFailsWithDeadlineExceeded() async throws {
        let handler = ScriptedEcho()
        try await withServer(echo: handler) { (transport: InProcessServerTransport) async throws in
            let echo = Echo.Client(transport.makeClient())
            // The reply is held until the test opens the gate: only the timeout can end the call.
            await expectRPCError(.deadlineExceeded) {
                try await echo.echo(message: "gated", options: CallOptions(timeout: .milliseconds(50)))
            }
            handler.gateOpen.store(true, ordering: .releasing)
            #expect(try await echo.echo(message: "after") == "after")
        }
    }

    @Test func aCancelledCallerGetsCancelled() async throws {
        let handler = ScriptedEcho()
        try await withServer(echo: handler) { (transport: InProcessServerTransport) async throws in
            let echo = Echo.Client(transport.makeClient())
            let call = Task { try await echo.echo(message: "gated") }
            while handler.started.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(1)) }
            call.cancel()
            await expectRPCError(.cancelled) { try await call.value }
            handler.gateOpen.store(true, ordering: .releasing)
        }
    }

    @Test func callsBeforeTheServerListensOrAfterTheClientClosedFailAsNotSent() async throws {
        let transport = InProcessServerTransport()
        let early = Echo.Client(transport.makeClient())
        let error = await expectRPCError(.unavailable) { try await early.echo(message: "x") }
        #expect(error?.requestWasNotSent == true)
        try await withServer { (transport: InProcessServerTransport) async throws in
            let client = transport.makeClient()
            #expect(try await Echo.Client(client).echo(message: "x") == "x")
            await client.close()
            let closed = await expectRPCError(.unavailable) { try await Echo.Client(client).echo(message: "x") }
            #expect(closed?.requestWasNotSent == true)
        }
    }

    @Test func onewayCallsRunOnTheServer() async throws {
        try await withServer(echo: EchoHandler()) { (transport: InProcessServerTransport) async throws in
            let echo = Echo.Client(transport.makeClient())
            for id in 0..<5 { try await echo.fire(id: Int64(id)) }
            #expect(try await echo.firedCount() == 5)
        }
    }
}
