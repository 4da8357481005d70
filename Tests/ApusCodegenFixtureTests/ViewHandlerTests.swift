import ApusCodegenFixtures
import ApusRPC
import ApusThrift
import Synchronization
import Testing

/// Methods generated with `(apus.views)` (the fixture's `Lookup`) hand their
/// handlers views into the request, through the real dispatcher: in place when
/// the call runs inline, from one copy when a middleware suspended first and
/// the transport already reused its buffer.
@Suite struct ViewHandlerTests {
    final class Lookups: Lookup.ServiceProtocol {
        let seen = Mutex<[String]>([])

        func count(query: BytesView, stamps: ListView<StampView>, user: UserView, context: ServerContext) throws -> Int32 {
            if query == "missing" { throw NotFound(key: query.string) }
            seen.withLock { $0.append("\(query.string) \(user.name.string) \(stamps.map(\.millis))") }
            return Int32(stamps.count) + Int32(user.id)
        }

        func note(what: BytesView, context: ServerContext) throws { seen.withLock { $0.append("note \(what.string)") } }

        func plain(x: String, context: ServerContext) async throws -> String { x }
    }

    final class Replies: ResponseSink {
        let replies = Mutex<[[UInt8]]>([])
        func send(_ message: consuming OutgoingMessage, protocol protocolID: ThriftProtocolID) {
            let bytes = try! message.encoded(protocol: protocolID)
            replies.withLock { $0.append(bytes) }
        }

        func waitFor(_ count: Int) async -> [[UInt8]] {
            for _ in 0..<5_000 where replies.withLock({ $0.count }) < count { try? await Task.sleep(for: .milliseconds(2)) }
            return replies.withLock { $0 }
        }
    }

    /// Holds calls until opened: a middleware that suspends before the handler.
    final class Gate: RPCMiddleware {
        let isOpen = Atomic<Bool>(false)
        func intercept<Next: RPCHandler>(_ request: ServerRequest, context: ServerContext, next: Next) async throws -> ServerResponse {
            for _ in 0..<5_000 where !isOpen.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(2)) }
            return try await next.handle(request, context: context)
        }
    }

    static let connection = ConnectionState(remotePeer: PeerAddress("test:1"), localPeer: PeerAddress("test:2"))

    static func call(_ name: String, _ body: some ThriftMessageBody, type: MessageType = .call, _ protocolID: ThriftProtocolID) throws -> [UInt8] {
        try OutgoingMessage(name: name, type: type, sequenceID: 9, body: body).encoded(protocol: protocolID)
    }

    static func countArgs(_ query: String) -> Lookup.CountArgs {
        Lookup.CountArgs(query: query, stamps: [Stamp(millis: 1), Stamp(millis: 2)], user: User(id: 40, name: "Ada"))
    }

    /// The reply's result struct, or the exception the server sent instead.
    static func result(_ bytes: [UInt8], _ protocolID: ThriftProtocolID) throws -> Result<Lookup.CountResult, TApplicationException> {
        try bytes.withUnsafeBytes { buffer in
            let message = try IncomingMessage(parsing: buffer, protocol: protocolID, limits: .default)
            #expect(message.header.sequenceID == 9 && message.header.name == "count")
            if message.header.type == .exception { return .failure(try message.decodeBody(TApplicationException.self)) }
            return .success(try message.decodeBody(Lookup.CountResult.self))
        }
    }

    @Test(arguments: ThriftProtocolID.allCases) func handlersReadArgumentsInPlace(_ protocolID: ThriftProtocolID) async throws {
        let handler = Lookups()
        var router = Router()
        router.register(Lookup.service(handler))
        let dispatcher = ServerDispatcher(router: router, handler: router, logger: ServerContext.silentLogger)
        let sink = Replies()
        for query in ["q", "missing"] {
            let outcome = try Self.call("count", Self.countArgs(query), protocolID).withUnsafeBytes {
                dispatcher.dispatch($0, protocol: nil, connection: Self.connection, sink: sink)
            }
            #expect(outcome == .dispatched(expectsReply: true))
        }
        let replies = await sink.waitFor(2)
        try #require(replies.count == 2)
        #expect(try Self.result(replies[0], protocolID).get().success == 42)
        #expect(try Self.result(replies[1], protocolID).get().notFound == NotFound(key: "missing"))
        #expect(handler.seen.withLock { $0 } == ["q Ada [1, 2]"])

        // A oneway call runs its handler and answers nothing.
        let oneway = try Self.call("note", Lookup.NoteArgs(what: Array("hi".utf8)), type: .oneway, protocolID).withUnsafeBytes {
            dispatcher.dispatch($0, protocol: nil, connection: Self.connection, sink: sink)
        }
        #expect(oneway == .dispatched(expectsReply: false))
        #expect(handler.seen.withLock { $0.last } == "note hi")
    }

    @Test(arguments: ThriftProtocolID.allCases) func aSuspendedCallReadsACopy(_ protocolID: ThriftProtocolID) async throws {
        let handler = Lookups()
        var router = Router()
        router.register(Lookup.service(handler))
        let gate = Gate()
        let dispatcher = ServerDispatcher(router: router, handler: router.layer(gate), logger: ServerContext.silentLogger)
        let sink = Replies()
        var bytes = try Self.call("count", Self.countArgs("held"), protocolID)
        let outcome = bytes.withUnsafeBytes { dispatcher.dispatch($0, protocol: nil, connection: Self.connection, sink: sink) }
        #expect(outcome == .dispatched(expectsReply: true))
        // The transport reuses its buffer as soon as dispatch returns.
        for index in bytes.indices { bytes[index] = 0xEE }
        #expect(handler.seen.withLock { $0.isEmpty })
        gate.isOpen.store(true, ordering: .releasing)
        let replies = await sink.waitFor(1)
        try #require(replies.count == 1)
        #expect(try Self.result(replies[0], protocolID).get().success == 42)
        #expect(handler.seen.withLock { $0 } == ["held Ada [1, 2]"])
    }

    @Test func undecodableArgumentsAreAProtocolError() async throws {
        var router = Router()
        router.register(Lookup.service(Lookups()))
        let dispatcher = ServerDispatcher(router: router, handler: router, logger: ServerContext.silentLogger)
        let sink = Replies()
        let whole = try Self.call("count", Self.countArgs("q"), .binary)
        let outcome = Array(whole.dropLast(12)).withUnsafeBytes {
            dispatcher.dispatch($0, protocol: nil, connection: Self.connection, sink: sink)
        }
        #expect(outcome == .dispatched(expectsReply: true))  // the connection stays usable
        let replies = await sink.waitFor(1)
        try #require(replies.count == 1)
        guard case .failure(let exception) = try Self.result(replies[0], .binary) else {
            Issue.record("a truncated call was answered with a result")
            return
        }
        #expect(exception.kind == .protocolError && exception.message.contains("CountArgsView"))
    }

    @Test func prepareHandsTheCallACopy() async throws {
        let handler = Lookups()
        let method = try #require(Lookup.service(handler).methods.first { $0.descriptor == Lookup.Method.count })
        var bytes = try Thrift.encode(Self.countArgs("copied"), protocol: .compact)
        let invocation = try bytes.withUnsafeBytes { buffer throws(RPCError) in
            try method.prepare(IncomingMessage(header: MessageHeader(name: .empty, type: .call, sequenceID: 1), protocolID: .compact,
                                               body: buffer, limits: .default))
        }
        for index in bytes.indices { bytes[index] = 0 }
        let response = try await invocation(ServerContext(method: Lookup.Method.count, sequenceID: 1))
        #expect((response.body as? Lookup.CountResult)?.success == 42)
        #expect(handler.seen.withLock { $0 } == ["copied Ada [1, 2]"])
    }
}
