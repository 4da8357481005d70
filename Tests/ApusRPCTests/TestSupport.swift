import ApusExamples
import ApusRPC
import ApusThrift
import ApusTransportPosix
import Foundation
import Synchronization
import Testing

/// Collects what the dispatcher sends back, as encoded bytes re-parsed the
/// way a client would, so tests check the wire result, not our own structs.
final class CollectingSink: ResponseSink {
    private let replies = Mutex<[[UInt8]]>([])
    let protocolID: ThriftProtocolID

    init(protocol protocolID: ThriftProtocolID = .binary) { self.protocolID = protocolID }

    func send(_ message: consuming OutgoingMessage, protocol protocolID: ThriftProtocolID) {
        let bytes = try! message.encoded(protocol: protocolID)
        replies.withLock { $0.append(bytes) }
    }

    var count: Int { replies.withLock { $0.count } }
    var all: [[UInt8]] { replies.withLock { $0 } }

    /// Waits (bounded) until `n` replies arrived.
    func waitFor(_ n: Int, timeout: Duration = .seconds(20)) async -> [[UInt8]] {
        let deadline = ContinuousClock.now + timeout
        while count < n && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(2)) }
        return all
    }
}

/// A parsed reply: header fields plus either the TApplicationException or the raw body.
struct ParsedReply {
    var name: String
    var type: MessageType
    var sequenceID: Int32
    var exception: TApplicationException?
    var body: [UInt8]
}

func parseReply(_ bytes: [UInt8], protocol protocolID: ThriftProtocolID = .binary) throws -> ParsedReply {
    try bytes.withUnsafeBytes { raw in
        let message = try IncomingMessage(parsing: raw, protocol: protocolID, limits: .default)
        var reply = ParsedReply(name: message.header.name.string, type: message.header.type,
                                sequenceID: message.header.sequenceID, exception: nil, body: Array(message.body))
        if message.header.type == .exception {
            reply.exception = try message.decodeBody(TApplicationException.self)
        }
        return reply
    }
}

func decodeResult<T: ThriftDecodable>(_ type: T.Type, _ reply: ParsedReply, protocol protocolID: ThriftProtocolID = .binary) throws -> T {
    try Thrift.decode(T.self, from: reply.body, protocol: protocolID)
}

func callBytes(_ name: String, _ body: some ThriftMessageBody, type: MessageType = .call, sequenceID: Int32 = 1,
               protocol protocolID: ThriftProtocolID = .binary) -> [UInt8] {
    try! OutgoingMessage(name: name, type: type, sequenceID: sequenceID, body: body).encoded(protocol: protocolID)
}

/// Dispatches `bytes` to `dispatcher` as one connection's message.
@discardableResult
func dispatch(_ dispatcher: ServerDispatcher, _ bytes: [UInt8], sink: CollectingSink,
              connection: ConnectionState = ConnectionState(remotePeer: PeerAddress("test:1"), localPeer: PeerAddress("test:2"))) -> ServerDispatcher.Outcome {
    bytes.withUnsafeBytes { raw in
        dispatcher.dispatch(raw, protocol: nil, connection: connection, sink: sink)
    }
}

func makeDispatcher(_ router: Router) -> ServerDispatcher {
    ServerDispatcher(router: router, handler: router, logger: ServerContext.silentLogger)
}

/// `echoDelay`: `echo` sleeps that long first (a slow server), as `apus serve --echo-delay` does it.
func exampleRouter(echo: some Echo.ServiceProtocol = EchoHandler(), kv: some KV.ServiceProtocol = InMemoryKV(),
                   echoDelay: Duration = .zero) -> Router {
    var router = Router()
    router.register(Echo.service(echo))
    router.register(KV.service(kv))
    if echoDelay > .zero { router.intercept(service: Echo.serviceName, method: "echo", with: DelayMiddleware(echoDelay)) }
    return router
}

/// An async Echo service whose behaviour tests steer by message: "slow:N" sleeps
/// N ms (observing cancellation), "fail" throws an undeclared error,
/// "rpc-error" throws an RPCError; everything else echoes.
final class ScriptedEcho: Echo.ServiceProtocol {
    let started = Atomic<Int>(0)
    let finished = Atomic<Int>(0)
    let cancelled = Atomic<Int>(0)
    /// "gated" calls wait for this, so tests order replies without relying on timing.
    let gateOpen = Atomic<Bool>(false)
    /// The task each `echo` ran in.
    let tasks = Mutex<[Int?]>([])

    struct Boom: Error {}

    func echo(message: String, context: ServerContext) async throws -> String {
        started.add(1, ordering: .relaxed)
        tasks.withLock { $0.append(withUnsafeCurrentTask { $0?.hashValue }) }
        defer { finished.add(1, ordering: .relaxed) }
        if message.hasPrefix("slow:"), let ms = Int(message.dropFirst(5)) {
            do {
                try await Task.sleep(for: .milliseconds(ms))
            } catch {
                cancelled.add(1, ordering: .relaxed)
                throw error
            }
        }
        if message == "gated" {
            // Bounded: a test that forgets to open the gate fails instead of hanging.
            for _ in 0..<6_000 where !gateOpen.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(10)) }
        }
        if message == "fail" { throw Boom() }
        if message == "rpc-error" { throw RPCError(.resourceExhausted, "scripted") }
        return message
    }
    func echoBinary(payload: [UInt8], context: ServerContext) async throws -> [UInt8] { payload }
    func echoItem(item: Item, context: ServerContext) async throws -> Item { item }
    func ping(context: ServerContext) async throws {}
    func fire(id: Int64, context: ServerContext) async throws {}
    func firedCount(context: ServerContext) async throws -> Int64 { 0 }
}

/// The two kernel-socket server transports. Tests that take no `kind` run on
/// `APUS_TEST_SERVER` (`epoll`, the default, or `nio`); the suites about
/// resets, back pressure and shutdown run on both.
enum ServerKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case epoll, nio

    static var `default`: ServerKind {
        ProcessInfo.processInfo.environment["APUS_TEST_SERVER"].flatMap(ServerKind.init(rawValue:)) ?? .epoll
    }

    var testDescription: String { rawValue }
}

/// Either kernel-socket transport behind one type, for `RPCServer` in tests.
final class TestServerTransport: ServerTransport {
    private let epoll: EpollServerTransport?
    private let nio: PosixServerTransport?

    init(_ kind: ServerKind, port: Int = 0, configuration: PosixServerTransport.Configuration) {
        switch kind {
        case .epoll:
            epoll = EpollServerTransport(host: "127.0.0.1", port: port,
                                         configuration: .init(connection: configuration.connection, backlog: configuration.backlog, threads: 2))
            nio = nil
        case .nio:
            epoll = nil
            nio = PosixServerTransport(host: "127.0.0.1", port: port, configuration: configuration)
        }
    }

    func listen(dispatcher: ServerDispatcher) async throws -> PeerAddress {
        if let epoll { return try await epoll.listen(dispatcher: dispatcher) }
        return try await nio!.listen(dispatcher: dispatcher)
    }

    func stopAccepting() async {
        await epoll?.stopAccepting()
        await nio?.stopAccepting()
    }

    func close() async {
        await epoll?.close()
        await nio?.close()
    }

    var connectionCount: Int { epoll?.connectionCount ?? nio!.connectionCount }
}

/// A server on 127.0.0.1 with a free port (or `port`), for the duration of `body`.
func withServer<Handler: RPCHandler, T>(
    _ kind: ServerKind = .default, port: Int = 0,
    router: Router, configuration: PosixServerTransport.Configuration = .init(), gracePeriod: Duration = .seconds(5),
    middleware: @escaping (Router) -> Handler = { $0 },
    _ body: (_ port: Int, _ server: RPCServer<TestServerTransport>) async throws -> T
) async throws -> T {
    let transport = TestServerTransport(kind, port: port, configuration: configuration)
    let server = RPCServer(transport: transport, router: router, limits: configuration.connection.limits, gracePeriod: gracePeriod,
                           logger: ServerContext.silentLogger, middleware: middleware)
    let running = Task { try await server.run() }
    do {
        let address = try await server.listeningAddress
        let port = Int(address.description.split(separator: ":").last!)!
        let result = try await body(port, server)
        server.beginGracefulShutdown()
        try await running.value
        return result
    } catch {
        server.beginGracefulShutdown()
        _ = try? await running.value
        throw error
    }
}

func client(port: Int, _ configuration: PosixClientTransport.Configuration = .init()) -> PosixClientTransport {
    PosixClientTransport(host: "127.0.0.1", port: port, configuration: configuration)
}

/// Expects `body` to throw an `RPCError` with `code`; returns it.
@discardableResult
func expectRPCError<T>(_ code: RPCError.Code, sourceLocation: SourceLocation = #_sourceLocation,
                       _ body: () async throws -> T) async -> RPCError? {
    do {
        _ = try await body()
        Issue.record("expected RPCError \(code), got success", sourceLocation: sourceLocation)
    } catch let error as RPCError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected RPCError \(code), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
