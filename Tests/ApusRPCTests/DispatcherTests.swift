import ApusExamples
import ApusRPC
import ApusThrift
import Testing

/// The server core without a network: bytes in, reply bytes out.
@Suite struct DispatcherTests {
    @Test(arguments: ThriftProtocolID.allCases)
    func aCallIsAnsweredWithAReplyCarryingItsSequenceID(protocolID: ThriftProtocolID) async throws {
        let dispatcher = makeDispatcher(exampleRouter())
        let sink = CollectingSink()
        dispatch(dispatcher, callBytes("echo", Echo.EchoArgs(message: "hello"), sequenceID: 77, protocol: protocolID), sink: sink)
        let replies = await sink.waitFor(1)
        let reply = try parseReply(try #require(replies.first), protocol: protocolID)
        #expect(reply.type == .reply)
        #expect(reply.name == "echo")
        #expect(reply.sequenceID == 77)
        #expect(try decodeResult(Echo.EchoResult.self, reply, protocol: protocolID).success == "hello")
    }

    @Test func aMultiplexedCallIsAnsweredUnderThePlainMethodName() async throws {
        let dispatcher = makeDispatcher(exampleRouter())
        let sink = CollectingSink()
        dispatch(dispatcher, callBytes("Echo:echo", Echo.EchoArgs(message: "m")), sink: sink)
        let reply = try parseReply(try #require(await sink.waitFor(1).first))
        #expect(reply.name == "echo")
        #expect(try decodeResult(Echo.EchoResult.self, reply).success == "m")
    }

    @Test func anUnknownMethodGetsUnknownMethodWithTheNameAndSequenceIDItSent() async throws {
        let dispatcher = makeDispatcher(exampleRouter())
        let sink = CollectingSink()
        dispatch(dispatcher, callBytes("noSuchMethod", EmptyStruct(), sequenceID: 7), sink: sink)
        let reply = try parseReply(try #require(await sink.waitFor(1).first))
        #expect(reply.type == .exception)
        #expect(reply.name == "noSuchMethod")
        #expect(reply.sequenceID == 7)
        #expect(reply.exception?.kind == .unknownMethod)
        #expect(reply.exception?.message.contains("noSuchMethod") == true)
    }

    @Test(arguments: [MessageType.reply, .exception])
    func aReplyOrExceptionSentToTheServerGetsInvalidMessageType(type: MessageType) async throws {
        let dispatcher = makeDispatcher(exampleRouter())
        let sink = CollectingSink()
        dispatch(dispatcher, callBytes("echo", Echo.EchoResult(success: "x"), type: type, sequenceID: 9), sink: sink)
        let reply = try parseReply(try #require(await sink.waitFor(1).first))
        #expect(reply.sequenceID == 9)
        #expect(reply.exception?.kind == .invalidMessageType)
    }

    @Test func undecodableArgumentsGetProtocolError() async throws {
        let dispatcher = makeDispatcher(exampleRouter())
        let sink = CollectingSink()
        // echo args: field 1, type string, length -5.
        var bytes = try OutgoingMessage(name: "echo", type: .call, sequenceID: 11, body: EmptyStruct()).encoded(protocol: .binary)
        bytes.removeLast() // the stop byte
        bytes += [11, 0, 1, 0xff, 0xff, 0xff, 0xfb, 0]
        #expect(dispatch(dispatcher, bytes, sink: sink) == .dispatched(expectsReply: true))
        let reply = try parseReply(try #require(await sink.waitFor(1).first))
        #expect(reply.sequenceID == 11)
        #expect(reply.exception?.kind == .protocolError)
    }

    @Test func anUnreadableHeaderClosesTheConnection() {
        let dispatcher = makeDispatcher(exampleRouter())
        let sink = CollectingSink()
        #expect(closesConnection(dispatch(dispatcher, Array("GET / HTTP/1.1\r\n".utf8), sink: sink)))
        #expect(closesConnection(dispatch(dispatcher, [0x80, 0x01, 0x00], sink: sink)))
        #expect(closesConnection(dispatch(dispatcher, [], sink: sink)))
        #expect(sink.count == 0)
    }

    @Test func onewayCallsGetNoReplyButRun() async throws {
        let echo = EchoHandler()
        let dispatcher = makeDispatcher(exampleRouter(echo: echo))
        let sink = CollectingSink()
        for id in 0..<3 { dispatch(dispatcher, callBytes("fire", Echo.FireArgs(id: Int64(id)), type: .oneway), sink: sink) }
        dispatch(dispatcher, callBytes("firedCount", Echo.FiredCountArgs(), sequenceID: 5), sink: sink)
        let replies = await sink.waitFor(1)
        #expect(replies.count == 1)
        let reply = try parseReply(try #require(replies.first))
        #expect(reply.sequenceID == 5)
        #expect(try decodeResult(Echo.FiredCountResult.self, reply).success == 3)
    }

    @Test func aDeclaredExceptionTravelsInItsResultField() async throws {
        let dispatcher = makeDispatcher(exampleRouter())
        let sink = CollectingSink()
        dispatch(dispatcher, callBytes("get", KV.GetArgs(key: "missing")), sink: sink)
        let reply = try parseReply(try #require(await sink.waitFor(1).first))
        #expect(reply.type == .reply)
        let result = try decodeResult(KV.GetResult.self, reply)
        #expect(result.success == nil)
        #expect(result.notFound == NotFound(key: "missing"))
    }

    @Test func anUndeclaredErrorBecomesInternalErrorWithoutItsDetails() async throws {
        let dispatcher = makeDispatcher(exampleRouter(echo: ScriptedEcho()))
        let sink = CollectingSink()
        dispatch(dispatcher, callBytes("echo", Echo.EchoArgs(message: "fail"), sequenceID: 3), sink: sink)
        let reply = try parseReply(try #require(await sink.waitFor(1).first))
        #expect(reply.exception?.kind == .internalError)
        #expect(reply.exception?.message == "internal error in Echo.echo")
    }

    @Test func anRPCErrorKeepsItsCodeInTheMessage() async throws {
        let dispatcher = makeDispatcher(exampleRouter(echo: ScriptedEcho()))
        let sink = CollectingSink()
        dispatch(dispatcher, callBytes("echo", Echo.EchoArgs(message: "rpc-error")), sink: sink)
        let reply = try parseReply(try #require(await sink.waitFor(1).first))
        let exception = try #require(reply.exception)
        #expect(exception.kind == .internalError)
        #expect(RPCError(exception).code == .resourceExhausted)
    }

    @Test func aHandlerThatDoesNotSuspendRepliesBeforeDispatchReturns() {
        let dispatcher = makeDispatcher(exampleRouter())
        let sink = CollectingSink()
        dispatch(dispatcher, callBytes("echo", Echo.EchoArgs(message: "inline")), sink: sink)
        #expect(sink.count == 1)
    }

    @Test func whileDrainingNewCallsAreRefusedAndOnewaysDropped() async throws {
        let echo = EchoHandler()
        let dispatcher = makeDispatcher(exampleRouter(echo: echo))
        dispatcher.beginDraining()
        let sink = CollectingSink()
        dispatch(dispatcher, callBytes("fire", Echo.FireArgs(id: 1), type: .oneway), sink: sink)
        dispatch(dispatcher, callBytes("echo", Echo.EchoArgs(message: "late"), sequenceID: 4), sink: sink)
        let reply = try parseReply(try #require(await sink.waitFor(1).first))
        #expect(reply.sequenceID == 4)
        #expect(RPCError(try #require(reply.exception)).code == .unavailable)
        #expect(sink.count == 1)
        #expect(try echo.firedCount(context: ServerContext(method: Echo.Method.firedCount, sequenceID: 0)) == 0)
    }

    @Test func inFlightCallsAreCountedUntilTheyFinish() async throws {
        let dispatcher = makeDispatcher(exampleRouter(echo: ScriptedEcho()))
        let sink = CollectingSink()
        dispatch(dispatcher, callBytes("echo", Echo.EchoArgs(message: "slow:100")), sink: sink)
        #expect(dispatcher.inFlightCalls == 1)
        // Returns as soon as the call ends; the bound only keeps a broken dispatcher from hanging the suite.
        #expect(await dispatcher.waitForInFlightCalls(gracePeriod: .seconds(60)))
        #expect(dispatcher.inFlightCalls == 0)
        #expect(sink.count == 1)
    }
}

private func closesConnection(_ outcome: ServerDispatcher.Outcome) -> Bool {
    if case .closeConnection = outcome { return true }
    return false
}
