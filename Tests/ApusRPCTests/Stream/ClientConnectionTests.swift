import ApusExamples
import ApusThrift
import Synchronization
import Testing
@testable import ApusRPC

/// The client stream core alone: calls, replies, connection events and time
/// driven by the test, results collected from the completions it hands back.
@Suite struct ClientConnectionTests {
    typealias Core = ClientConnection<String>

    static let echo = MethodDescriptor(service: "Echo", method: "echo", kind: .call)
    static let configuration = Core.Configuration(framing: .framed, protocol: .binary, limits: .default, endpoint: "server:9090")

    /// What completions delivered, by sequence id.
    final class Results: @unchecked Sendable {
        var replies: [Int32: Result<String, RPCError>] = [:]

        func completion(_ sequenceID: Int32) -> Core.Completion {
            { result in
                self.replies[sequenceID] = result.flatMap { message in
                    Result { () throws(RPCError) in try message.decodeReply(Echo.EchoResult.self).success ?? "" }
                }
            }
        }

        func error(_ sequenceID: Int32) -> RPCError? {
            if case .failure(let error) = replies[sequenceID] { return error }
            return nil
        }
    }

    static func reply(_ sequenceID: Int32, _ text: String, name: String = "echo") -> [UInt8] {
        frame(try! OutgoingMessage(name: name, type: .reply, sequenceID: sequenceID, body: Echo.EchoResult(success: text))
            .encoded(protocol: .binary))
    }

    /// Feeds `bytes` and runs every completion handed back; returns the late replies and a reset reason.
    @discardableResult
    static func feed(_ core: inout Core, _ bytes: [UInt8]) -> (late: [Int32], reset: String?) {
        var late: [Int32] = []
        let reset: String? = bytes.withUnsafeBytes { raw in
            var input = MessageReader.Input(raw)
            while true {
                switch core.receive(&input) {
                case .needMore: return nil
                case .reply(let complete, let result): complete(result)
                case .late(let sequenceID): late.append(sequenceID)
                case .reset(let reason): return reason
                }
            }
        }
        return (late, reset)
    }

    /// Starts a call; returns its sequence id and what to do with its request.
    static func start(_ core: inout Core, _ results: Results, deadline: Duration? = nil) -> (Int32, Core.Send) {
        let sequenceID = core.nextSequenceID()
        let send = core.startCall("request \(sequenceID)", sequenceID: sequenceID, method: echo, deadline: deadline,
                                  complete: results.completion(sequenceID))
        return (sequenceID, send)
    }

    @Test func theFirstCallConnectsLaterOnesWaitAndAllAreWrittenInOrderOnceOpen() {
        var core = Core(configuration: Self.configuration)
        let results = Results()
        guard case (1, .connect) = Self.start(&core, results), case (2, .wait) = Self.start(&core, results) else {
            Issue.record("expected connect, then wait")
            return
        }
        do { let value = core.connected(); #expect(value == ["request 1", "request 2"]) }
        guard case (3, .write("request 3")) = Self.start(&core, results) else {
            Issue.record("expected a write once open")
            return
        }
    }

    @Test func pipelinedRepliesAreMatchedBySequenceIDInAnyOrderAndAtEverySplit() {
        let stream = Self.reply(3, "three") + Self.reply(1, "one") + Self.reply(2, "two")
        for split in 0...stream.count {
            var core = Core(configuration: Self.configuration)
            let results = Results()
            for _ in 0..<3 { _ = Self.start(&core, results) }
            _ = core.connected()
            Self.feed(&core, Array(stream[..<split]))
            Self.feed(&core, Array(stream[split...]))
            #expect(results.replies[1] == .success("one"), "split \(split)")
            #expect(results.replies[2] == .success("two"))
            #expect(results.replies[3] == .success("three"))
            do { let value = core.pendingCalls; #expect(value == 0) }
        }
    }

    @Test func aReplyNamedForAnotherMethodFailsThatCall() {
        var core = Core(configuration: Self.configuration)
        let results = Results()
        _ = Self.start(&core, results)
        _ = core.connected()
        Self.feed(&core, Self.reply(1, "x", name: "other"))
        #expect(results.error(1)?.code == .wrongMethodName)
    }

    @Test func aReplyNoCallWaitsForIsLate() {
        var core = Core(configuration: Self.configuration)
        let results = Results()
        _ = Self.start(&core, results)
        _ = core.connected()
        do { let value = core.cancel(1, RPCError(.cancelled, "by the test")); #expect(value != nil) }
        let (late, reset) = Self.feed(&core, Self.reply(1, "too late"))
        #expect(late == [1] && reset == nil)
    }

    @Test func aMalformedReplyAsksForAReset() {
        var core = Core(configuration: Self.configuration)
        _ = Self.start(&core, Results())
        _ = core.connected()
        let (_, reset) = Self.feed(&core, [0, 0, 0, 3, 0xDE, 0xAD, 0xBF])
        #expect(reset != nil)
    }

    /// A plaintext client on a TLS port reads a TLS alert (RFC 8446 §5.1: type 21, version 3.x):
    /// the reset says so instead of reporting a 350 MB frame.
    @Test func aTLSRecordWhereAReplyWasDueSaysTheServerSpeaksTLS() {
        for record: [UInt8] in [[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x32], [0x16, 0x03, 0x03, 0x00, 0x04, 0x0E, 0, 0, 0]] {
            var core = Core(configuration: Self.configuration)
            _ = Self.start(&core, Results())
            _ = core.connected()
            let (_, reset) = Self.feed(&core, record)
            #expect(reset?.contains("the server answered with TLS") == true, "\(String(describing: reset))")
        }
        // Only the stream's first bytes are checked; a reply's body may hold them.
        var core = Core(configuration: Self.configuration)
        let results = Results()
        _ = Self.start(&core, results)
        _ = core.connected()
        let (_, reset) = Self.feed(&core, Self.reply(1, "\u{15}\u{03}"))
        #expect(reset == nil && results.error(1) == nil)
    }

    @Test func aFailedConnectFailsEveryCallAsNotSentAndHandsBackTheRequests() {
        var core = Core(configuration: Self.configuration)
        let results = Results()
        _ = Self.start(&core, results)
        _ = Self.start(&core, results)
        let (failures, dropped) = core.connectFailed("refused")
        #expect(dropped == ["request 1", "request 2"])
        for failure in failures { failure.run() }
        #expect(results.error(1)?.requestWasNotSent == true)
        #expect(results.error(2)?.code == .unavailable)
        // The next call tries again.
        guard case (_, .connect) = Self.start(&core, results) else {
            Issue.record("expected a new connect")
            return
        }
    }

    @Test func losingAnOpenConnectionFailsItsCallsAsPossiblySentAndTheNextCallReconnects() {
        var core = Core(configuration: Self.configuration)
        let results = Results()
        _ = Self.start(&core, results)
        _ = core.connected()
        for failure in core.lost("reset by peer") { failure.run() }
        let error = results.error(1)
        #expect(error?.code == .unavailable && error?.requestWasNotSent == false)
        #expect(error?.message.contains("reset by peer") == true)
        guard case (_, .connect) = Self.start(&core, results) else {
            Issue.record("expected a reconnect")
            return
        }
    }

    @Test func deadlinesFailOnlyTheCallsWhoseTimeCame() {
        var core = Core(configuration: Self.configuration)
        let results = Results()
        _ = Self.start(&core, results, deadline: .seconds(5))
        _ = Self.start(&core, results, deadline: .seconds(2))
        _ = Self.start(&core, results)  // no deadline
        _ = core.connected()
        do { let value = core.nextDeadline; #expect(value == .seconds(2)) }
        do { let value = core.expire(at: .seconds(1)).isEmpty; #expect(value) }
        for failure in core.expire(at: .seconds(2)) { failure.run() }
        #expect(results.error(2)?.code == .deadlineExceeded)
        #expect(results.replies[1] == nil)
        do { let value = core.nextDeadline; #expect(value == .seconds(5)) }
        Self.feed(&core, Self.reply(1, "in time"))
        #expect(results.replies[1] == .success("in time"))
        do { let value = core.pendingCalls; #expect(value == 1) }
        do { let value = core.expire(at: .seconds(100)).isEmpty; #expect(value) }
    }

    @Test func afterCloseEveryCallFailsAtOnce() {
        var core = Core(configuration: Self.configuration)
        let results = Results()
        _ = Self.start(&core, results)
        _ = core.connected()
        for failure in core.close().failures { failure.run() }
        #expect(results.error(1)?.code == .unavailable)
        guard case (2, .fail(let failure?)) = Self.start(&core, results) else {
            Issue.record("a call after close must fail at once")
            return
        }
        failure.run()
        #expect(results.error(2)?.requestWasNotSent == true)
        guard case .fail(nil) = core.startOneway("oneway") else {
            Issue.record("a oneway request after close must fail at once")
            return
        }
    }
}

extension Result where Success == String, Failure == RPCError {
    static func == (lhs: Self?, rhs: Self) -> Bool {
        guard case .success(let left)? = lhs, case .success(let right) = rhs else { return false }
        return left == right
    }
}
