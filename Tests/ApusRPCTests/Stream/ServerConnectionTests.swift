import ApusExamples
import ApusThrift
import Testing
@testable import ApusRPC

/// The server stream core alone: bytes and time in, messages and actions out.
/// No thread, socket or clock: every split of a stream, every timer and every
/// reset point is driven by the test.
@Suite struct ServerConnectionTests {
    static let configuration = ServerConnection.Configuration(
        framing: nil, protocol: nil, limits: .default, readTimeout: .seconds(30), idleTimeout: .seconds(600), drainTimeout: .seconds(5))

    /// Three pipelined calls of different sizes, in `protocolID`, framed or not.
    static func stream(_ protocolID: ThriftProtocolID, _ framing: ThriftFraming) -> (bytes: [UInt8], messages: [[UInt8]]) {
        let messages = [
            callBytes("echo", Echo.EchoArgs(message: "a"), sequenceID: 1, protocol: protocolID),
            callBytes("echo", Echo.EchoArgs(message: String(repeating: "b", count: 3000)), sequenceID: 2, protocol: protocolID),
            callBytes("echoItem", Echo.EchoItemArgs(item: Item(id: 7, title: "t", extra: ["k": "v"])), sequenceID: 3, protocol: protocolID),
        ]
        let bytes = messages.flatMap { framing == .framed ? frame($0) : $0 }
        return (bytes, messages)
    }

    /// Feeds `chunks` in order; returns every message the core handed out (copied).
    static func feed(_ connection: inout ServerConnection, _ chunks: [ArraySlice<UInt8>], at now: Duration = .zero) -> (messages: [[UInt8]], action: ServerConnection.Action?) {
        var messages: [[UInt8]] = []
        for chunk in chunks {
            let result: ServerConnection.Action? = Array(chunk).withUnsafeBytes { bytes in
                var input = MessageReader.Input(bytes)
                while true {
                    switch connection.receive(&input, at: now) {
                    case .needMore, .paused: return nil
                    case .action(let action): return action
                    case .message(let message):
                        messages.append(Array(message.bytes))
                        _ = connection.dispatched(.dispatched(expectsReply: true))
                    }
                }
            }
            if let result { return (messages, result) }
        }
        return (messages, nil)
    }

    @Test(arguments: [ThriftProtocolID.binary, .compact], [ThriftFraming.framed, .buffered])
    func everySplitPointOfAPipelinedStreamYieldsTheSameMessages(protocolID: ThriftProtocolID, framing: ThriftFraming) {
        let (bytes, expected) = Self.stream(protocolID, framing)
        for split in 0...bytes.count {
            var connection = ServerConnection(configuration: Self.configuration, at: .zero)
            let (messages, action) = Self.feed(&connection, [bytes[..<split], bytes[split...]])
            #expect(action == nil)
            #expect(messages == expected, "split at \(split)")
            do { let value = connection.bufferedBytes; #expect(value == 0) }
            do { let value = connection.replyFraming; #expect(value == framing) }
        }
    }

    @Test(arguments: [ThriftFraming.framed, .buffered])
    func byteByByteFeedingYieldsTheSameMessages(framing: ThriftFraming) {
        let (bytes, expected) = Self.stream(.binary, framing)
        var connection = ServerConnection(configuration: Self.configuration, at: .zero)
        let (messages, action) = Self.feed(&connection, bytes.indices.map { bytes[$0...$0] })
        #expect(action == nil)
        #expect(messages == expected)
    }

    @Test func aMessageThatArrivedWholeIsAViewOfTheInputNotACopy() {
        let bytes = frame(callBytes("echo", Echo.EchoArgs(message: "zero copy")))
        var connection = ServerConnection(configuration: Self.configuration, at: .zero)
        bytes.withUnsafeBytes { raw in
            var input = MessageReader.Input(raw)
            guard case .message(let message) = connection.receive(&input, at: .zero) else {
                Issue.record("no message")
                return
            }
            #expect(message.bytes.baseAddress == raw.baseAddress! + 4)
            #expect(!message.wasReassembled)
        }
    }

    @Test func memoryForASplitMessageGrowsWithTheBytesReceivedNotTheAnnouncedSize() {
        var connection = ServerConnection(configuration: Self.configuration, at: .zero)
        // A frame header announcing 16,000,000 bytes, then 100 of them.
        let header: [UInt8] = [0x00, 0xF4, 0x24, 0x00]
        let (_, action) = Self.feed(&connection, [ArraySlice(header + [0x80, 0x01, 0x00, 0x01] + [UInt8](repeating: 0, count: 96))])
        #expect(action == nil)
        do { let value = connection.bufferedBytes; #expect(value == 104) }
    }

    @Test func anOversizedFrameHeaderResetsAtOnce() {
        var connection = ServerConnection(configuration: Self.configuration, at: .zero)
        let (_, action) = Self.feed(&connection, [[0x7F, 0xFF, 0xFF, 0xFF]])
        guard case .reset(let reason) = action else {
            Issue.record("expected a reset, got \(String(describing: action))")
            return
        }
        #expect(reason.contains("frame"))
        do { let value = connection.isClosed; #expect(value) }
    }

    @Test func garbageResetsAndNothingIsReadAfterIt() {
        var connection = ServerConnection(configuration: Self.configuration, at: .zero)
        let (messages, action) = Self.feed(&connection, [ArraySlice("GET / HTTP/1.1\r\n".utf8)])
        #expect(messages.isEmpty)
        #expect(action != nil)
        let later = Self.feed(&connection, [ArraySlice(frame(callBytes("echo", Echo.EchoArgs(message: "x"))))])
        #expect(later.messages.isEmpty && later.action == nil)
    }

    /// Read deadlines as Apache httpd's mod_reqtimeout: 10 s from a message's first byte, plus
    /// a second for every 1,024 bytes of it received.
    static let rateConfiguration = ServerConnection.Configuration(
        framing: nil, protocol: nil, limits: .default, readTimeout: .seconds(10), minimumReadRate: 1024, idleTimeout: nil)

    @Test func aStalledPartialMessageIsResetAtTheReadDeadline() {
        var connection = ServerConnection(configuration: Self.rateConfiguration, at: .zero)
        let bytes = frame(callBytes("echo", Echo.EchoArgs(message: "stalled")))
        _ = Self.feed(&connection, [bytes[..<8]], at: .seconds(1))
        // 10 s from the first byte, plus 8 bytes' worth at 1,024 bytes/s.
        let deadline = Duration.seconds(11) + .nanoseconds(8 * 1_000_000_000 / 1024)
        let next = connection.nextDeadline
        #expect(next == deadline)
        let early = connection.expire(at: deadline - .milliseconds(1))
        #expect(early == nil)
        guard case .reset = connection.expire(at: deadline) else {
            Issue.record("no reset at the read deadline")
            return
        }
    }

    @Test func aTrickleBelowTheMinimumRateIsResetEvenThoughBytesKeepComing() {
        // Slowloris: a frame header announcing a large message, then one byte every 2 s.
        var connection = ServerConnection(configuration: Self.rateConfiguration, at: .zero)
        var bytes = frame(callBytes("echo", Echo.EchoArgs(message: String(repeating: "x", count: 100_000))))
        var now = Duration.seconds(1)
        var reset = false
        for index in 0..<100 where !reset {
            _ = Self.feed(&connection, [bytes[index...index]], at: now)
            now += .seconds(2)
            if case .reset? = connection.expire(at: now) { reset = true }
        }
        #expect(reset)
        #expect(now <= .seconds(13), "reset within the 10 s allowance, not kept alive by the trickle")
        bytes.removeAll()
    }

    @Test func aSlowButSteadySenderAboveTheMinimumRateIsNotReset() {
        // 64 KiB arriving at 2 KiB/s: 32 s in all, well past the initial 10 s.
        var connection = ServerConnection(configuration: Self.rateConfiguration, at: .zero)
        let message = frame(callBytes("echoBinary", Echo.EchoBinaryArgs(payload: [UInt8](repeating: 7, count: 64 * 1024))))
        var now = Duration.zero
        var received: [[UInt8]] = []
        var offset = 0
        while offset < message.count {
            let end = min(offset + 2048, message.count)
            let (messages, action) = Self.feed(&connection, [message[offset..<end]], at: now)
            #expect(action == nil)
            received += messages
            offset = end
            now += .seconds(1)
            let expired = connection.expire(at: now)
            #expect(expired == nil, "reset at \(now) with \(offset) bytes in")
        }
        #expect(received.count == 1)
    }

    @Test func anIdleConnectionClosesAfterTheIdleTimeoutButNotWhileARepliesIsOwed() {
        var connection = ServerConnection(configuration: Self.configuration, at: .zero)
        do { let value = connection.nextDeadline; #expect(value == .seconds(600)) }
        let (messages, _) = Self.feed(&connection, [ArraySlice(frame(callBytes("echo", Echo.EchoArgs(message: "x"))))], at: .seconds(10))
        #expect(messages.count == 1)
        do { let value = connection.owedReplies; #expect(value == 1) }
        #expect(connection.nextDeadline == nil)  // a call is in progress: no idle timer
        do { let value = connection.expire(at: .seconds(10_000)); #expect(value == nil) }
        let (reply, then) = connection.prepareReply(OutgoingMessage(name: "echo", type: .reply, sequenceID: 1, body: EmptyStruct()),
                                                    protocol: .binary, at: .seconds(20))
        #expect(reply != nil && then == nil)
        do { let value = connection.nextDeadline; #expect(value == .seconds(620)) }
        do { let value = connection.expire(at: .seconds(619)); #expect(value == nil) }
        do { let value = connection.expire(at: .seconds(620)); #expect(value == .close(reason: "idle for 600.0 seconds")) }
    }

    @Test func noIdleTimeoutWhenNoneIsConfigured() {
        var configuration = Self.configuration
        configuration.idleTimeout = nil
        let connection = ServerConnection(configuration: configuration, at: .zero)
        do { let value = connection.nextDeadline; #expect(value == nil) }
    }

    @Test func afterThePeersFINTheConnectionClosesOnceTheLastOwedReplyIsOut() {
        var connection = ServerConnection(configuration: Self.configuration, at: .zero)
        let bytes = [1, 2].flatMap { frame(callBytes("echo", Echo.EchoArgs(message: "x"), sequenceID: $0)) }
        _ = Self.feed(&connection, [ArraySlice(bytes)])
        do { let value = connection.peerFinished(at: .seconds(1)); #expect(value == nil) }
        let reply = OutgoingMessage(name: "echo", type: .reply, sequenceID: 1, body: EmptyStruct())
        do { let value = connection.prepareReply(reply, protocol: .binary, at: .seconds(1)).then; #expect(value == nil) }
        let last = connection.prepareReply(reply, protocol: .binary, at: .seconds(1))
        #expect(last.reply != nil)
        #expect(last.then == .close(reason: "the peer closed its side"))
    }

    @Test func aFINWithNothingOwedClosesAtOnceAndDropsAPartialMessage() {
        var connection = ServerConnection(configuration: Self.configuration, at: .zero)
        _ = Self.feed(&connection, [ArraySlice(frame(callBytes("echo", Echo.EchoArgs(message: "x"))).prefix(6))])
        do { let value = connection.bufferedBytes; #expect(value == 6) }
        do { let value = connection.peerFinished(at: .zero); #expect(value == .close(reason: "the peer closed its side")) }
        do { let value = connection.bufferedBytes; #expect(value == 0) }
    }

    /// Calls stashed while the connection was paused (replies owed, or a socket that takes no
    /// more) came before the FIN: they are answered, and only a message the FIN cut off is dropped.
    @Test func callsStashedBeforeTheFINAreStillAnswered() {
        var connection = ServerConnection(configuration: Self.configuration, at: .zero)
        let calls = (1...3).flatMap { frame(callBytes("echo", Echo.EchoArgs(message: "x"), sequenceID: Int32($0))) }
        let bytes = calls + frame(callBytes("echo", Echo.EchoArgs(message: "cut"), sequenceID: 4)).prefix(9)
        bytes.withUnsafeBytes { raw in
            var input = MessageReader.Input(raw)
            guard case .message = connection.receive(&input, at: .zero) else { Issue.record("no first message"); return }
            _ = connection.dispatched(.dispatched(expectsReply: true))
            connection.stash(&input, at: .zero)  // the transport paused here
        }
        do { let value = connection.peerFinished(at: .seconds(1)); #expect(value == nil) }
        let (messages, action) = Self.feed(&connection, [[]])
        #expect(messages.count == 2, "the two stashed complete calls")
        #expect(action == nil, "replies are still owed")
        do { let value = connection.bufferedBytes; #expect(value == 0, "the cut-off call is dropped") }
        let reply = OutgoingMessage(name: "echo", type: .reply, sequenceID: 1, body: EmptyStruct())
        for _ in 0..<2 {
            let value = connection.prepareReply(reply, protocol: .binary, at: .seconds(1)).then
            #expect(value == nil)
        }
        let last = connection.prepareReply(reply, protocol: .binary, at: .seconds(1))
        #expect(last.then == .close(reason: "the peer closed its side"))
    }

    @Test func drainingWaitsForOwedRepliesThenClosesOrGivesUpAtTheDrainTimeout() {
        var connection = ServerConnection(configuration: Self.configuration, at: .zero)
        _ = Self.feed(&connection, [ArraySlice(frame(callBytes("echo", Echo.EchoArgs(message: "x"))))])
        do { let value = connection.beginDraining(at: .seconds(1)); #expect(value == nil) }
        do { let value = connection.nextDeadline; #expect(value == .seconds(6)) }
        do { let value = connection.expire(at: .seconds(5)); #expect(value == nil) }
        guard case .close = connection.expire(at: .seconds(6)) else {
            Issue.record("draining did not end at the drain timeout")
            return
        }
        var idle = ServerConnection(configuration: Self.configuration, at: .zero)
        do { let value = idle.beginDraining(at: .zero); #expect(value == .close(reason: "server shutting down")) }
    }

    /// The transport loses the connection before, during or after a call's reply is produced:
    /// nothing the core does afterwards touches the connection, and nothing traps.
    @Test(arguments: 0..<4)
    func aResetAtAnyStepOfACallEndsItQuietly(step: Int) {
        var connection = ServerConnection(configuration: Self.configuration, at: .zero)
        let bytes = frame(callBytes("echo", Echo.EchoArgs(message: "x")))
        if step == 0 { connection.closed() }
        var handedOut = 0
        bytes.withUnsafeBytes { raw in
            var input = MessageReader.Input(raw)
            if case .message = connection.receive(&input, at: .zero) {
                handedOut += 1
                if step == 1 { connection.closed() }  // while the message is being dispatched
                _ = connection.dispatched(.dispatched(expectsReply: true))
            }
        }
        #expect(handedOut == (step == 0 ? 0 : 1))
        if step == 2 { connection.closed() }  // while the handler runs
        let reply = OutgoingMessage(name: "echo", type: .reply, sequenceID: 1, body: EmptyStruct())
        let (wire, then) = connection.prepareReply(reply, protocol: .binary, at: .zero)
        #expect((wire != nil) == (step == 3))
        #expect(then == nil)
        if step == 3 { connection.closed() }  // after the reply
        do { let value = connection.isClosed; #expect(value) }
        do { let value = connection.nextDeadline; #expect(value == nil) }
        do { let value = connection.expire(at: .seconds(1_000_000)); #expect(value == nil) }
    }

    @Test func aConnectionOwingTooManyRepliesPausesUntilRepliesGoOutAndLosesNothing() {
        var configuration = Self.configuration
        configuration.maximumOwedReplies = 2
        var connection = ServerConnection(configuration: configuration, at: .zero)
        let calls = (1...5).flatMap { frame(callBytes("echo", Echo.EchoArgs(message: "m\($0)"), sequenceID: Int32($0))) }
        var handed: [Int32] = []
        func take(_ connection: inout ServerConnection, _ input: inout MessageReader.Input) -> Bool {
            while true {
                switch connection.receive(&input, at: .zero) {
                case .message(let message):
                    let header = try! IncomingMessage(parsing: message.bytes, protocol: nil, limits: .default).header
                    handed.append(header.sequenceID)
                    _ = connection.dispatched(.dispatched(expectsReply: true))
                case .paused:
                    connection.stash(&input, at: .zero)
                    return true
                case .needMore, .action:
                    return false
                }
            }
        }
        let paused = calls.withUnsafeBytes { raw in
            var input = MessageReader.Input(raw)
            return take(&connection, &input)
        }
        #expect(paused)
        #expect(handed == [1, 2], "no third call read while two replies are owed")
        let reply = OutgoingMessage(name: "echo", type: .reply, sequenceID: 1, body: EmptyStruct())
        _ = connection.prepareReply(reply, protocol: .binary, at: .zero)
        do { let value = connection.isPaused; #expect(!value) }
        var none = MessageReader.Input(UnsafeRawBufferPointer(start: nil, count: 0))
        _ = take(&connection, &none)
        #expect(handed == [1, 2, 3])
        for _ in 0..<3 { _ = connection.prepareReply(reply, protocol: .binary, at: .zero) }
        _ = take(&connection, &none)
        #expect(handed == [1, 2, 3, 4, 5], "every stashed call read, in order")
    }

    @Test func repliesUseTheRequestsFraming() throws {
        var connection = ServerConnection(configuration: Self.configuration, at: .zero)
        _ = Self.feed(&connection, [ArraySlice(callBytes("echo", Echo.EchoArgs(message: "x")))])  // unframed
        let message = OutgoingMessage(name: "echo", type: .reply, sequenceID: 1, body: Echo.EchoResult(success: "x"))
        let wire = try #require(connection.prepareReply(message, protocol: .binary, at: .zero).reply)
        #expect(wire.frameHeaderSize == 0)
        var bytes = [UInt8](repeating: 0, count: wire.size)
        #expect(bytes.withUnsafeMutableBytes { wire.write(into: $0) } == wire.size)
        #expect(bytes == (try message.encoded(protocol: .binary)))
    }

    @Test func aReplyThatCannotBeEncodedBecomesAnInternalError() throws {
        var connection = ServerConnection(configuration: Self.configuration, at: .zero)
        _ = Self.feed(&connection, [ArraySlice(frame(callBytes("echo", Echo.EchoArgs(message: "x"))))])
        let message = OutgoingMessage(name: "echo", type: .reply, sequenceID: 9, body: Unencodable())
        let wire = try #require(connection.prepareReply(message, protocol: .binary, at: .zero).reply)
        var bytes = [UInt8](repeating: 0, count: wire.size)
        #expect(bytes.withUnsafeMutableBytes { wire.write(into: $0) } == wire.size)
        let reply = try parseReply(Array(bytes.dropFirst(4)))
        #expect(reply.type == .exception && reply.sequenceID == 9)
        #expect(reply.exception?.kind == .internalError)
    }
}

/// A body whose sizing fails, as one holding a value over a limit would.
struct Unencodable: ThriftMessageBody {
    func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
        throw ThriftError(.sizeLimit, offset: 0, detail: "too large")
    }
}

func frame(_ message: [UInt8]) -> [UInt8] {
    withUnsafeBytes(of: UInt32(message.count).bigEndian) { Array($0) } + message
}
