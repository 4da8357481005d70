import ApusExamples
import ApusThrift
import Synchronization
import Testing
@testable import ApusRPC

/// Calls that came in THeader: metadata in, response headers out, the caller's deadline.
@Suite struct HeaderDispatchTests {
    func dispatch(_ dispatcher: ServerDispatcher, _ message: String, headers: [String: String], sink: CollectingSink) {
        let bytes = callBytes("echo", Echo.EchoArgs(message: message), sequenceID: 7)
        let connection = ConnectionState(remotePeer: PeerAddress("test:1"), localPeer: PeerAddress("test:2"))
        _ = bytes.withUnsafeBytes {
            dispatcher.dispatch($0, protocol: nil, connection: connection, sink: sink,
                                header: THeader(sequenceNumber: 41, protocol: .binary, headers: headers))
        }
    }

    @Test func theReplyGoesBackInTHeaderWithTheHandlersHeaders() async throws {
        let sink = HeaderSink()
        let dispatcher = makeDispatcher(exampleRouter())
        let bytes = callBytes("echo", Echo.EchoArgs(message: "hi"), sequenceID: 7)
        let connection = ConnectionState(remotePeer: PeerAddress("test:1"), localPeer: PeerAddress("test:2"))
        _ = bytes.withUnsafeBytes {
            dispatcher.dispatch($0, protocol: nil, connection: connection, sink: sink,
                                header: THeader(flags: 1, sequenceNumber: 41, protocol: .binary, headers: ["trace": "t1"]))
        }
        let reply = try #require(await sink.first())
        #expect(reply.header == THeader(flags: 1, sequenceNumber: 41, protocol: .binary, headers: ["echo-trace": "t1"]))
    }

    @Test func aCallWhoseDeadlinePassedIsRefusedBeforeItsHandler() async throws {
        let handler = ScriptedEcho()
        let sink = CollectingSink()
        dispatch(makeDispatcher(exampleRouter(echo: handler)), "x", headers: [ServerDispatcher.clientTimeoutHeader: "0"], sink: sink)
        let reply = try parseReply(try #require(await sink.waitFor(1).first))
        #expect(RPCError(try #require(reply.exception)).code == .deadlineExceeded)
        #expect(handler.started.load(ordering: .relaxed) == 0)
    }

    @Test func aTTHeaderCallIsAnsweredInTTHeaderWithItsIntInfoShownToTheHandler() async throws {
        let sink = HeaderSink()
        let dispatcher = makeDispatcher(exampleRouter())
        let bytes = callBytes("echo", Echo.EchoArgs(message: "hi"), sequenceID: 7)
        let connection = ConnectionState(remotePeer: PeerAddress("test:1"), localPeer: PeerAddress("test:2"))
        let request = THeader(format: .ttheader, sequenceNumber: 41, protocol: .binary, headers: ["trace": "t1"],
                              intHeaders: [THeader.TTKey.toMethod: "echo", THeader.TTKey.fromService: "caller"])
        _ = bytes.withUnsafeBytes { dispatcher.dispatch($0, protocol: nil, connection: connection, sink: sink, header: request) }
        let reply = try #require(await sink.first())
        #expect(reply.header == THeader(format: .ttheader, sequenceNumber: 41, protocol: .binary,
                                        headers: ["echo-trace": "t1", "echo-int-3": "caller", "echo-int-9": "echo"]))
    }

    /// Every header call closes its slot in the connection's table, answered or not (unknown
    /// method, oneway), run inline or in a task, and reply headers set after the reply went are dropped.
    @Test(arguments: [true, false]) func headerCallsLeaveNothingBehind(inline: Bool) async throws {
        let sink = CollectingSink()
        let dispatcher = makeDispatcher(inline ? exampleRouter() : exampleRouter(echo: ScriptedEcho()))
        let connection = ConnectionState(remotePeer: PeerAddress("test:1"), localPeer: PeerAddress("test:2"))
        let header = THeader(format: .ttheader, protocol: .binary, headers: ["k": "v"])
        for bytes in [callBytes("echo", Echo.EchoArgs(message: "hi"), sequenceID: 1),
                      callBytes("nosuch", Echo.EchoArgs(message: "hi"), sequenceID: 2),
                      callBytes("fire", Echo.FireArgs(id: 3), type: .oneway, sequenceID: 3)] {
            _ = bytes.withUnsafeBytes { dispatcher.dispatch($0, protocol: nil, connection: connection, sink: sink, header: header) }
        }
        _ = await sink.waitFor(2)
        for _ in 0..<500 where connection.headerCallsInFlight > 0 { try await Task.sleep(for: .milliseconds(2)) }
        #expect(connection.headerCallsInFlight == 0)
        var late = ServerContext(method: MethodDescriptor(service: "Echo", method: "echo"), sequenceID: 1)
        late.replyHeaders = .call(connection, 1)
        late.responseMetadata["after"] = "the reply"
        #expect(late.responseMetadata.all.isEmpty && connection.headerCallsInFlight == 0)
    }

    @Test func aTTHeaderCallWithNoTimeLeftIsRefusedBeforeItsHandler() async throws {
        let handler = ScriptedEcho()
        let sink = CollectingSink()
        let bytes = callBytes("echo", Echo.EchoArgs(message: "x"), sequenceID: 7)
        let connection = ConnectionState(remotePeer: PeerAddress("test:1"), localPeer: PeerAddress("test:2"))
        _ = bytes.withUnsafeBytes {
            makeDispatcher(exampleRouter(echo: handler)).dispatch(
                $0, protocol: nil, connection: connection, sink: sink,
                header: THeader(format: .ttheader, protocol: .binary, intHeaders: [THeader.TTKey.rpcTimeout: "0"]))
        }
        let reply = try parseReply(try #require(await sink.waitFor(1).first))
        #expect(RPCError(try #require(reply.exception)).code == .deadlineExceeded)
        #expect(handler.started.load(ordering: .relaxed) == 0)
    }

    @Test func theCallersDeadlineBoundsTheHandler() async throws {
        let handler = ScriptedEcho()
        let sink = CollectingSink()
        dispatch(makeDispatcher(exampleRouter(echo: handler)), "slow:60000", headers: [ServerDispatcher.clientTimeoutHeader: "50"], sink: sink)
        let reply = try parseReply(try #require(await sink.waitFor(1).first))
        #expect(RPCError(try #require(reply.exception)).code == .deadlineExceeded)
        for _ in 0..<500 where handler.cancelled.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(2)) }
        #expect(handler.cancelled.load(ordering: .relaxed) == 1, "the handler was cancelled at the caller's deadline")
        #expect(await sink.waitFor(2, timeout: .milliseconds(200)).count == 1, "one answer: the handler's own, after its cancellation, is dropped")
    }

    /// Calls that finish in time are answered by their handler and leave no deadline behind.
    @Test(arguments: [true, false]) func callsWithinTheirDeadlineLeaveNothingWatched(inline: Bool) async throws {
        let sink = CollectingSink()
        let dispatcher = makeDispatcher(inline ? exampleRouter() : exampleRouter(echo: ScriptedEcho()))
        for index in 0..<50 {
            let bytes = callBytes("echo", Echo.EchoArgs(message: "m\(index)"), sequenceID: Int32(index))
            let connection = ConnectionState(remotePeer: PeerAddress("test:1"), localPeer: PeerAddress("test:2"))
            _ = bytes.withUnsafeBytes {
                dispatcher.dispatch($0, protocol: nil, connection: connection, sink: sink,
                                    header: THeader(protocol: .binary, headers: [ServerDispatcher.clientTimeoutHeader: "5000"]))
            }
        }
        let replies = await sink.waitFor(50)
        #expect(try replies.map { try parseReply($0).exception == nil } == Array(repeating: true, count: 50))
        #expect(dispatcher.deadlines.count == 0)
    }
}

/// Keeps the messages the dispatcher sends, headers included.
final class HeaderSink: ResponseSink {
    private let messages = Mutex<[OutgoingMessage]>([])

    func send(_ message: consuming OutgoingMessage, protocol protocolID: ThriftProtocolID) {
        let message = message
        messages.withLock { $0.append(message) }
    }

    func first(timeout: Duration = .seconds(20)) async -> OutgoingMessage? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let message = messages.withLock({ $0.first }) { return message }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return nil
    }
}
