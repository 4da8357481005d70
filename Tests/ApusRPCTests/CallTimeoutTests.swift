import ApusExamples
import ApusRPC
import ApusThrift
import ApusTransportPosix
import Testing

/// The server-wide call timeout (`RPCServer(callTimeout:)`, `apus serve --call-timeout`):
/// enforced by the dispatcher's deadline table together with the caller's deadline.
@Suite struct CallTimeoutTests {
    func dispatcher(_ echo: ScriptedEcho, callTimeout: Duration) -> ServerDispatcher {
        let router = exampleRouter(echo: echo)
        return ServerDispatcher(router: router, handler: router, callTimeout: callTimeout, logger: ServerContext.silentLogger)
    }

    /// Dispatches echo(`message`), in THeader with `client_timeout` when `callerMilliseconds` is given.
    func echo(_ dispatcher: ServerDispatcher, _ message: String, callerMilliseconds: Int? = nil, sink: CollectingSink) {
        let bytes = callBytes("echo", Echo.EchoArgs(message: message), sequenceID: 5)
        let connection = ConnectionState(remotePeer: PeerAddress("test:1"), localPeer: PeerAddress("test:2"))
        let header = callerMilliseconds.map {
            THeader(protocol: .binary, headers: [ServerDispatcher.clientTimeoutHeader: String($0)])
        }
        _ = bytes.withUnsafeBytes { dispatcher.dispatch($0, protocol: nil, connection: connection, sink: sink, header: header) }
    }

    @Test func aCallPastTheServersTimeoutIsAnsweredAndCancelled() async throws {
        let handler = ScriptedEcho()
        let dispatcher = dispatcher(handler, callTimeout: .milliseconds(50))
        let sink = CollectingSink()
        echo(dispatcher, "slow:60000", sink: sink)
        let reply = try parseReply(try #require(await sink.waitFor(1, timeout: .seconds(30)).first))
        let error = RPCError(try #require(reply.exception))
        #expect(error.code == .deadlineExceeded)
        #expect(error.message.contains("server's call timeout"))
        #expect(await dispatcher.waitForInFlightCalls(gracePeriod: .seconds(30)))
        #expect(handler.cancelled.load(ordering: .relaxed) == 1)
        #expect(dispatcher.deadlines.count == 0)
        #expect(sink.count == 1)  // the cancelled handler's own ending sends nothing more
    }

    @Test func theEarlierOfTheCallersDeadlineAndTheServersTimeoutWins() async throws {
        // The caller's 50 ms comes before the server's 60 s.
        let sink = CollectingSink()
        echo(dispatcher(ScriptedEcho(), callTimeout: .seconds(60)), "slow:60000", callerMilliseconds: 50, sink: sink)
        let callers = try parseReply(try #require(await sink.waitFor(1, timeout: .seconds(30)).first))
        #expect(RPCError(try #require(callers.exception)).message.contains("caller's deadline"))
        // The server's 50 ms comes before the caller's 60 s.
        let other = CollectingSink()
        echo(dispatcher(ScriptedEcho(), callTimeout: .milliseconds(50)), "slow:60000", callerMilliseconds: 60_000, sink: other)
        let servers = try parseReply(try #require(await other.waitFor(1, timeout: .seconds(30)).first))
        #expect(RPCError(try #require(servers.exception)).message.contains("server's call timeout"))
    }

    @Test func fastCallsAreAnsweredAndLeaveNoEntry() async throws {
        let dispatcher = dispatcher(ScriptedEcho(), callTimeout: .seconds(30))
        let sink = CollectingSink()
        for _ in 0..<20 { echo(dispatcher, "hi", sink: sink) }
        let replies = await sink.waitFor(20)
        #expect(try replies.map { try parseReply($0).exception == nil } == Array(repeating: true, count: 20))
        #expect(dispatcher.deadlines.count == 0)
    }

    @Test func overKernelSockets() async throws {
        let server = RPCServer(transport: PosixServerTransport(host: "127.0.0.1", port: 0), router: exampleRouter(echo: ScriptedEcho()),
                               callTimeout: .milliseconds(100), logger: ServerContext.silentLogger)
        let running = Task { try await server.run() }
        let address = try await server.listeningAddress
        let port = Int(address.description.split(separator: ":").last ?? "") ?? 0
        let transport = PosixClientTransport(host: "127.0.0.1", port: port)
        let client = Echo.Client(transport)
        #expect(try await client.echo(message: "fast") == "fast")
        let error = await expectRPCError(.deadlineExceeded) { try await client.echo(message: "slow:3000") }
        #expect(error?.message.contains("Echo.echo") == true)
        await transport.close()
        server.beginGracefulShutdown()
        try await running.value
    }
}
