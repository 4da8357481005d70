import ApusExamples
import ApusThrift
import Synchronization
import Testing
@testable import ApusRPC

/// Handlers of a `SyncServiceProtocol` run inline: in the dispatching task (none of their own), their
/// answer sent before `dispatch` returns, errors answered as from an async handler; with middleware in
/// the way they run in the call's task over their own copy of the arguments.
@Suite struct InlineDispatchTests {
    /// Notes the task each `echo` ran in and its deadline; "fail" throws an undeclared error, "rpc-error" an RPCError.
    final class TaskNotingEcho: Echo.SyncServiceProtocol {
        struct Boom: Error {}
        let tasks = Mutex<[Int?]>([])
        let deadlines = Mutex<[ContinuousClock.Instant?]>([])

        func echo(message: String, context: ServerContext) throws -> String {
            tasks.withLock { $0.append(withUnsafeCurrentTask { $0?.hashValue }) }
            deadlines.withLock { $0.append(context.deadline) }
            if message == "fail" { throw Boom() }
            if message == "rpc-error" { throw RPCError(.resourceExhausted, "scripted") }
            return message
        }
        func echoBinary(payload: [UInt8], context: ServerContext) throws -> [UInt8] { payload }
        func echoItem(item: Item, context: ServerContext) throws -> Item { item }
        func ping(context: ServerContext) throws {}
        func fire(id: Int64, context: ServerContext) throws {}
        func firedCount(context: ServerContext) throws -> Int64 { 0 }
    }

    /// Holds calls until opened: a middleware that suspends before the handler.
    final class Gate: RPCMiddleware {
        let isOpen = Atomic<Bool>(false)
        func intercept<Next: RPCHandler>(_ request: ServerRequest, context: ServerContext, next: Next) async throws -> ServerResponse {
            for _ in 0..<5_000 where !isOpen.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(2)) }
            return try await next.handle(request, context: context)
        }
    }

    /// Registers `handler` the way generic code over `ServiceProtocol` does.
    static func router(_ handler: some Echo.ServiceProtocol) -> Router {
        var router = Router()
        router.register(Echo.service(handler))
        return router
    }

    @Test func aSyncHandlerRunsInTheDispatchingTaskAndIsAnsweredBeforeDispatchReturns() throws {
        let handler = TaskNotingEcho()
        let sink = CollectingSink()
        let here = withUnsafeCurrentTask { $0?.hashValue }
        #expect(here != nil)
        dispatch(makeDispatcher(Self.router(handler)), callBytes("echo", Echo.EchoArgs(message: "inline"), sequenceID: 3), sink: sink)
        #expect(handler.tasks.withLock { $0 } == [here])
        try #require(sink.count == 1)
        let reply = try parseReply(sink.all[0])
        #expect(reply.sequenceID == 3)
        #expect(try decodeResult(Echo.EchoResult.self, reply).success == "inline")
    }

    @Test func anAsyncHandlerRunsInATaskOfItsOwn() async throws {
        let handler = ScriptedEcho()
        let sink = CollectingSink()
        let here = withUnsafeCurrentTask { $0?.hashValue }
        dispatch(makeDispatcher(Self.router(handler)), callBytes("echo", Echo.EchoArgs(message: "task")), sink: sink)
        #expect(await sink.waitFor(1).count == 1)
        let seen = handler.tasks.withLock { $0 }
        #expect(seen.count == 1 && seen[0] != nil && seen[0] != here)
    }

    @Test func errorsOfASyncHandlerAreAnsweredAsAnAsyncOnesAre() throws {
        let dispatcher = makeDispatcher(Self.router(TaskNotingEcho()))
        let sink = CollectingSink()
        dispatch(dispatcher, callBytes("echo", Echo.EchoArgs(message: "fail"), sequenceID: 1), sink: sink)
        dispatch(dispatcher, callBytes("echo", Echo.EchoArgs(message: "rpc-error"), sequenceID: 2), sink: sink)
        // echo's arguments with a string of length -5.
        var bytes = try OutgoingMessage(name: "echo", type: .call, sequenceID: 3, body: EmptyStruct()).encoded(protocol: .binary)
        bytes.removeLast()
        bytes += [11, 0, 1, 0xff, 0xff, 0xff, 0xfb, 0]
        #expect(dispatch(dispatcher, bytes, sink: sink) == .dispatched(expectsReply: true))
        let replies = try sink.all.map { try parseReply($0) }
        try #require(replies.count == 3)
        #expect(replies[0].exception?.kind == .internalError && replies[0].exception?.message == "internal error in Echo.echo")
        #expect(RPCError(try #require(replies[1].exception)).code == .resourceExhausted)
        #expect(replies[2].exception?.kind == .protocolError)
        // A declared exception goes in its result field (KV.get's NotFound; InMemoryKV is synchronous).
        let kvSink = CollectingSink()
        dispatch(makeDispatcher(exampleRouter()), callBytes("get", KV.GetArgs(key: "missing"), sequenceID: 4), sink: kvSink)
        try #require(kvSink.count == 1)
        #expect(try decodeResult(KV.GetResult.self, parseReply(kvSink.all[0])).notFound == NotFound(key: "missing"))
    }

    @Test func behindMiddlewareASyncHandlerRunsInTheCallsTaskOverACopyOfItsArguments() async throws {
        let handler = TaskNotingEcho()
        let gate = Gate()
        var router = Self.router(handler)
        router.intercept(service: Echo.serviceName, method: "echo", with: gate)
        let sink = CollectingSink()
        var bytes = callBytes("echo", Echo.EchoArgs(message: "kept"), sequenceID: 5)
        bytes.withUnsafeBytes { raw in
            #expect(makeDispatcher(router).dispatch(raw, protocol: nil, connection: ConnectionState(
                remotePeer: PeerAddress("test:1"), localPeer: PeerAddress("test:2")), sink: sink) == .dispatched(expectsReply: true))
        }
        #expect(sink.count == 0 && handler.tasks.withLock { $0.isEmpty })
        for index in bytes.indices { bytes[index] = 0 }  // the transport reuses its buffer
        gate.isOpen.store(true, ordering: .releasing)
        let replies = await sink.waitFor(1)
        try #require(replies.count == 1)
        #expect(try decodeResult(Echo.EchoResult.self, parseReply(replies[0])).success == "kept")
        let here = withUnsafeCurrentTask { $0?.hashValue }
        #expect(handler.tasks.withLock { $0.count == 1 && $0[0] != here })
    }

    @Test func aSyncHandlerSeesTheCallersDeadlineAndLeavesNothingWatched() throws {
        let handler = TaskNotingEcho()
        let dispatcher = makeDispatcher(Self.router(handler))
        let sink = CollectingSink()
        let before = ContinuousClock.now
        let bytes = callBytes("echo", Echo.EchoArgs(message: "timed"), sequenceID: 6)
        let connection = ConnectionState(remotePeer: PeerAddress("test:1"), localPeer: PeerAddress("test:2"))
        _ = bytes.withUnsafeBytes {
            dispatcher.dispatch($0, protocol: nil, connection: connection, sink: sink,
                                header: THeader(protocol: .binary, headers: [ServerDispatcher.clientTimeoutHeader: "5000"]))
        }
        let deadline = try #require(handler.deadlines.withLock { $0.first } ?? nil)
        #expect(deadline >= before.advanced(by: .seconds(5)) && deadline <= ContinuousClock.now.advanced(by: .seconds(5)))
        #expect(sink.count == 1, "answered before dispatch returned")
        #expect(dispatcher.deadlines.count == 0 && connection.headerCallsInFlight == 0 && dispatcher.inFlightCalls == 0)
    }
}
