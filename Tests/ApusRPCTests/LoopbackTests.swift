import ApusExamples
import ApusRPC
import ApusThrift
import ApusTransportPosix
import Synchronization
import Testing

/// Apus client and Apus server over kernel TCP on 127.0.0.1.
@Suite struct LoopbackTests {
    static let combinations: [(ThriftProtocolID, ThriftFraming)] = [
        (.binary, .framed), (.binary, .buffered), (.compact, .framed), (.compact, .buffered),
    ]

    @Test(arguments: combinations)
    func everyMethodWorksInEveryProtocolAndFramingAgainstASniffingServer(protocolID: ThriftProtocolID, framing: ThriftFraming) async throws {
        try await withServer(router: exampleRouter()) { (port, _) async throws in
            let transport = client(port: port, .init(framing: framing, protocol: protocolID))
            defer { Task { await transport.close() } }
            let echo = Echo.Client(transport)
            let kv = KV.Client(transport)
            #expect(try await echo.echo(message: "héllo ✓") == "héllo ✓")
            #expect(try await echo.echo(message: "") == "")
            let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            #expect(try await echo.echoBinary(payload: payload) == payload)
            let item = Item(id: .min, title: "t", extra: ["a": "1", "b": ""])
            #expect(try await echo.echoItem(item: item) == item)
            #expect(try await echo.echoItem(item: Item(id: .max, title: "")) == Item(id: .max, title: ""))
            try await echo.ping()
            let before = try await echo.firedCount()
            for id in 0..<5 { try await echo.fire(id: Int64(id)) }
            #expect(try await echo.firedCount() == before + 5) // same connection, calls handled in order
            try await kv.put(key: "k", value: [1, 2, 3])
            try await kv.put(key: "empty", value: [])
            #expect(try await kv.get(key: "k") == [1, 2, 3])
            #expect(try await kv.get(key: "empty") == [])
            #expect(try await kv.count() == 2)
            await #expect(throws: NotFound(key: "nope")) { try await kv.get(key: "nope") }
            #expect(try await kv.remove(key: "k"))
            #expect(try await !kv.remove(key: "k"))
            #expect(try await kv.count() == 1)
        }
    }

    @Test func multiplexedNamesWork() async throws {
        try await withServer(router: exampleRouter()) { (port, _) async throws in
            let transport = client(port: port, .init(multiplexed: true))
            defer { Task { await transport.close() } }
            #expect(try await Echo.Client(transport).echo(message: "mux") == "mux")
            #expect(try await KV.Client(transport).count() == 0)
        }
    }

    @Test(arguments: ServerKind.allCases) func pipelinedRepliesThatComeBackOutOfOrderAreMatchedBySequenceID(_ kind: ServerKind) async throws {
        let handler = ScriptedEcho()
        try await withServer(kind, router: exampleRouter(echo: handler)) { (port, _) async throws in
            let transport = client(port: port) // one connection: both calls share it
            defer { Task { await transport.close() } }
            let echo = Echo.Client(transport)
            let order = Recorder()
            // The first call's reply is held until the second one's has arrived.
            async let held: String = {
                let value = try await echo.echo(message: "gated")
                order.append("held")
                return value
            }()
            while handler.started.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(5)) }
            let fast = try await echo.echo(message: "fast")
            order.append("fast")
            handler.gateOpen.store(true, ordering: .releasing)
            #expect(fast == "fast")
            #expect(try await held == "gated")
            #expect(order.names == ["fast", "held"])
        }
    }

    @Test func manyConcurrentCallsOverFewConnectionsAllGetTheirOwnReplies() async throws {
        try await withServer(router: exampleRouter()) { (port, _) async throws in
            let transport = client(port: port, .init(connections: 3))
            defer { Task { await transport.close() } }
            let echo = Echo.Client(transport)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<200 {
                    group.addTask { let reply = try await echo.echo(message: "m\(i)"); #expect(reply == "m\(i)") }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func aPerCallTimeoutFailsThatCallOnly() async throws {
        try await withServer(router: exampleRouter(echo: ScriptedEcho())) { (port, _) async throws in
            let transport = client(port: port)
            defer { Task { await transport.close() } }
            let echo = Echo.Client(transport)
            await expectRPCError(.deadlineExceeded) {
                try await echo.echo(message: "slow:2000", options: CallOptions(timeout: .milliseconds(100)))
            }
            #expect(try await echo.echo(message: "after") == "after")
        }
    }

    @Test func cancellingTheCallerFailsTheCallWithCancelled() async throws {
        try await withServer(router: exampleRouter(echo: ScriptedEcho())) { (port, _) async throws in
            let transport = client(port: port)
            defer { Task { await transport.close() } }
            let echo = Echo.Client(transport)
            let call = Task { try await echo.echo(message: "slow:2000") }
            try await Task.sleep(for: .milliseconds(50))
            call.cancel()
            await expectRPCError(.cancelled) { try await call.value }
            #expect(try await echo.echo(message: "next") == "next")
        }
    }

    @Test(arguments: ServerKind.allCases) func anUndeclaredHandlerErrorIsInternalErrorAndTheConnectionStaysUp(_ kind: ServerKind) async throws {
        try await withServer(kind, router: exampleRouter(echo: ScriptedEcho())) { (port, server) async throws in
            let transport = client(port: port)
            defer { Task { await transport.close() } }
            let echo = Echo.Client(transport)
            await expectRPCError(.internalError) { try await echo.echo(message: "fail") }
            #expect(try await echo.echo(message: "ok") == "ok")
            #expect(server.transport.connectionCount == 1)
        }
    }

    @Test(arguments: ServerKind.allCases) func anOversizedFrameClosesThatConnectionOnly(_ kind: ServerKind) async throws {
        var limits = ThriftLimits.default
        limits.maxFrameSize = 1000
        try await withServer(kind, router: exampleRouter(), configuration: .init(connection: .init(limits: limits))) { (port, _) async throws in
            let big = client(port: port)
            let small = client(port: port)
            defer { Task { await big.close(); await small.close() } }
            #expect(try await Echo.Client(small).echo(message: "before") == "before")
            await expectRPCError(.unavailable) { try await Echo.Client(big).echo(message: String(repeating: "x", count: 2000)) }
            #expect(try await Echo.Client(small).echo(message: "after") == "after")
            // The pool reconnects: the same client works again for calls within limits.
            #expect(try await Echo.Client(big).echo(message: "small now") == "small now")
        }
    }

    @Test func aRefusedConnectionFailsFastAsNotSent() async throws {
        // A port that was just free: bind, learn it, stop.
        let port = try await withServer(router: exampleRouter()) { (port, _) async throws in port }
        let transport = client(port: port)
        let error = await expectRPCError(.unavailable) { try await Echo.Client(transport).ping() }
        #expect(error?.requestWasNotSent == true)
        await transport.close()
    }

    @Test(arguments: ServerKind.allCases) func losingTheConnectionFailsOutstandingCallsAndThePoolReconnects(_ kind: ServerKind) async throws {
        let scripted = ScriptedEcho()
        let port = try await withServer(kind, router: exampleRouter(echo: scripted), gracePeriod: .milliseconds(50)) { (port, server) async throws in
            let transport = client(port: port)
            let echo = Echo.Client(transport)
            #expect(try await echo.echo(message: "first") == "first")
            let pending = Task { try await echo.echo(message: "slow:5000") }
            // The slow call must be running before shutdown begins (a fixed sleep lost that race on a loaded CI machine).
            for _ in 0..<2_000 where scripted.started.load(ordering: .relaxed) < 2 { try await Task.sleep(for: .milliseconds(5)) }
            #expect(scripted.started.load(ordering: .relaxed) == 2)
            server.beginGracefulShutdown() // grace period 50 ms, then connections close under the call
            let error = await expectRPCError(.unavailable) { try await pending.value }
            #expect(error?.message.contains("lost") == true)
            // Same client, new server on the same port: the pool reconnects.
            try await withServerOnPort(port) { () async throws in
                #expect(try await echo.echo(message: "again") == "again")
            }
            await transport.close()
            return port
        }
        _ = port
    }

    @Test(arguments: ServerKind.allCases) func gracefulShutdownFinishesInFlightCallsAndRefusesNewOnes(_ kind: ServerKind) async throws {
        let handler = ScriptedEcho()
        try await withServer(kind, router: exampleRouter(echo: handler), gracePeriod: .seconds(30)) { (port, server) async throws in
            let transport = client(port: port)
            defer { Task { await transport.close() } }
            let echo = Echo.Client(transport)
            // Long enough that the checks below run while it is in flight, even on a loaded machine.
            let inFlight = Task { try await echo.echo(message: "slow:3000") }
            while handler.started.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(5)) }
            server.beginGracefulShutdown()
            try await Task.sleep(for: .milliseconds(50))
            // The open connection stays for the in-flight call; new calls on it are refused.
            let refused = await expectRPCError(.unavailable) { try await echo.echo(message: "new") }
            #expect(refused?.message.contains("shutting down") == true)
            // No new connections are accepted.
            await expectRPCError(.unavailable) { try await Echo.Client(client(port: port)).ping() }
            #expect(try await inFlight.value == "slow:3000")
        }
        #expect(handler.finished.load(ordering: .relaxed) == 1)
        #expect(handler.cancelled.load(ordering: .relaxed) == 0)
    }

    @Test func serverMiddlewareRunsOverTheNetwork() async throws {
        try await withServer(router: exampleRouter(echo: ScriptedEcho()), middleware: { $0.layer(TimeoutMiddleware(.milliseconds(100))) }) { (port, _) async throws in
            let transport = client(port: port)
            defer { Task { await transport.close() } }
            let error = await expectRPCError(.deadlineExceeded) { try await Echo.Client(transport).echo(message: "slow:3000") }
            #expect(error?.message.contains("Echo.echo") == true)
        }
    }
}

/// A plain Echo/KV server on a given port for `body`.
func withServerOnPort(_ port: Int, _ body: () async throws -> Void) async throws {
    try await withServer(port: port, router: exampleRouter()) { _, _ in try await body() }
}
