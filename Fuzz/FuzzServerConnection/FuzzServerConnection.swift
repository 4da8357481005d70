import ApusRPC
import ApusThrift

/// The server's sans-IO stream core with an echo handler: each call's arguments are read
/// as a `ThriftValue` and sent back as the reply. The first input byte picks the policy
/// (framing, protocol, limits, owed-reply cap), the second seeds the chunk splits, the rest
/// is what a client sends.
///
/// Checked: the stream read in one piece and in random chunks gives the same messages,
/// the same replies and the same ending; a paused connection resumes from what it stashed;
/// every reply is one well-formed message in the connection's framing that carries the
/// call's name, sequence id and arguments back; a connection holding part of a message has
/// a deadline, and passing it resets the connection; a finished peer is closed once
/// nothing is owed.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let config = data[0]
    let stream = UnsafeRawBufferPointer(start: data + 2, count: size - 2)
    let policy = ServerConnectionPolicy(
        framing: [nil, .framed, .buffered][Int(config & 3) % 3],
        protocol: [nil, .binary, .compact][Int(config >> 2 & 3) % 3],
        limits: config & 0x10 != 0
            ? ThriftLimits(maxFrameSize: 80, maxMessageSize: 120, maxDepth: 4, maxStringSize: 24, maxContainerSize: 8)
            : .default,
        readTimeout: .seconds(10), minimumReadRate: 1024, idleTimeout: .seconds(600), drainTimeout: .seconds(5),
        maximumOwedReplies: [1, 2, 3, 32][Int(config >> 5 & 3)])
    let answerEvery = Int(config >> 7) + 1  // answer owed replies after every message, or every second one

    var random = SplitRandom(seed: data[1])
    let whole = run(stream, policy: policy, answerEvery: answerEvery, splits: [stream.count])
    let pieces = run(stream, policy: policy, answerEvery: answerEvery, splits: random.splits(of: stream.count))
    precondition(whole.calls == pieces.calls, "calls differ: \(whole.calls.count) in one read, \(pieces.calls.count) in chunks")
    precondition(whole.replies == pieces.replies, "replies differ between one read and chunks")
    precondition(whole.ending == pieces.ending, "one read ended \(whole.ending), chunks \(pieces.ending)")
    return 0
}

extension ThriftValue: ThriftMessageBody {}

struct Trace {
    var calls: [[UInt8]] = []
    var replies: [[UInt8]] = []
    var ending = ""
}

struct Owed {
    var name: String
    var sequenceID: Int32
    var protocolID: ThriftProtocolID
    var body: ThriftValue?
}

func run(_ stream: UnsafeRawBufferPointer, policy: ServerConnectionPolicy, answerEvery: Int, splits: [Int]) -> Trace {
    var trace = Trace()
    var connection = ServerConnection(configuration: policy, at: .zero)
    var owed: [Owed] = []
    let now = Duration.seconds(1)

    func answer(_ count: Int, _ connection: inout ServerConnection) {
        for _ in 0..<min(count, owed.count) {
            let call = owed.removeFirst()
            let message = call.body.map { OutgoingMessage(name: call.name, type: .reply, sequenceID: call.sequenceID, body: $0) }
                ?? .exception(RPCError(.internalError, "arguments did not decode"), name: call.name, sequenceID: call.sequenceID)
            let (reply, then) = connection.prepareReply(message, protocol: call.protocolID, at: now)
            guard let reply else { preconditionFailure("an open connection prepared no reply") }
            precondition(then == nil, "an open connection closed after a reply")
            trace.replies.append(checkReply(reply, call, framing: connection.replyFraming, limits: policy.limits))
        }
    }

    var start = 0
    reading: for end in splits {
        let chunk = UnsafeRawBufferPointer(rebasing: stream[start..<end])
        start = end
        var input = MessageReader.Input(chunk)
        while true {
            switch connection.receive(&input, at: now) {
            case .needMore:
                precondition(input.isExhausted, "needMore with input left")
                continue reading
            case .paused:
                precondition(connection.owedReplies >= policy.maximumOwedReplies, "paused with \(connection.owedReplies) owed")
                connection.stash(&input, at: now)
                answer(1, &connection)
            case .action(let action):
                guard case .reset = action else { preconditionFailure("receive closed instead of resetting: \(action)") }
                trace.ending = "reset"
                precondition(connection.isClosed && connection.bufferedBytes == 0, "a reset connection kept state")
                return trace
            case .message(let message):
                trace.calls.append(Array(message.bytes))
                let outcome = handle(message, policy.limits, &owed)
                if let action = connection.dispatched(outcome) {
                    guard case .reset = action else { preconditionFailure("dispatch failure closed instead of resetting") }
                    trace.ending = "reset after dispatch"
                    return trace
                }
                precondition(connection.owedReplies == owed.count, "core owes \(connection.owedReplies), handler \(owed.count)")
                if trace.calls.count % answerEvery == 0 { answer(owed.count, &connection) }
            }
        }
    }

    // A message left incomplete has a read deadline, and expiring it resets the connection.
    if connection.bufferedBytes > 0 {
        guard let deadline = connection.nextDeadline else { preconditionFailure("a partial message has no deadline") }
        precondition(connection.expire(at: deadline - .nanoseconds(1)) == nil, "expired before the deadline")
        guard case .reset? = connection.expire(at: deadline) else { preconditionFailure("the read deadline did not reset") }
        trace.ending = "read timeout"
        return trace
    }
    // The peer finishes: closed once every owed reply is out.
    let owedAtEnd = owed.count
    let action = connection.peerFinished(at: now)
    precondition((action == nil) == (owedAtEnd > 0), "peerFinished with \(owedAtEnd) owed gave \(String(describing: action))")
    if owedAtEnd > 0 {
        answer(owedAtEnd - 1, &connection)
        let last = owed.removeFirst()
        let (reply, then) = connection.prepareReply(.exception(RPCError(.internalError, "last"), name: last.name, sequenceID: last.sequenceID),
                                                    protocol: last.protocolID, at: now)
        precondition(reply != nil, "no last reply")
        guard case .close? = then else { preconditionFailure("no close after the last owed reply") }
    }
    precondition(connection.isClosed, "a finished connection with nothing owed is still open")
    trace.ending = "closed, \(owedAtEnd) owed at FIN"
    return trace
}

/// The echo handler: what a dispatcher would do with the message, minus routing.
func handle(_ message: MessageReader.Message, _ limits: ThriftLimits, _ owed: inout [Owed]) -> ServerDispatcher.Outcome {
    let incoming: IncomingMessage
    do throws(ThriftError) {
        incoming = try IncomingMessage(parsing: message.bytes, protocol: message.protocolID, limits: limits)
    } catch {
        return .closeConnection(reason: "unreadable header")
    }
    precondition(incoming.protocolID == message.protocolID, "the header was read in another protocol")
    guard incoming.header.type == .call else { return .dispatched(expectsReply: false) }
    var body: ThriftValue?
    do throws(ThriftError) {
        switch incoming.protocolID {
        case .binary:
            var reader = BinaryReader(incoming.body, limits: limits)
            body = try ThriftValue(reading: .struct, from: &reader)
        case .compact:
            var reader = CompactReader(incoming.body, limits: limits)
            body = try ThriftValue(reading: .struct, from: &reader)
        }
    } catch {}
    owed.append(Owed(name: incoming.header.name.string, sequenceID: incoming.header.sequenceID,
                     protocolID: incoming.protocolID, body: body))
    return .dispatched(expectsReply: true)
}

/// Writes the reply as a transport would and reads it back as a client would.
func checkReply(_ reply: WireMessage, _ call: Owed, framing: ThriftFraming, limits: ThriftLimits) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: reply.size)
    let written = bytes.withUnsafeMutableBytes { reply.write(into: $0) }
    precondition(written == reply.size, "reply sized \(reply.size) wrote \(written)")
    bytes.withUnsafeBytes { raw in
        var reader = MessageReader(framing: framing, protocol: call.protocolID, limits: .default)
        var input = MessageReader.Input(raw)
        let message: MessageReader.Message?
        do throws(ThriftError) { message = try reader.next(from: &input) } catch { preconditionFailure("reply does not frame: \(error)") }
        guard let message, input.isExhausted else { preconditionFailure("reply is not exactly one message") }
        do throws(ThriftError) {
            let incoming = try IncomingMessage(parsing: message.bytes, protocol: call.protocolID, limits: .default)
            precondition(incoming.header.name == call.name && incoming.header.sequenceID == call.sequenceID, "reply header differs")
            guard let body = call.body else { return }
            precondition(incoming.header.type == .reply, "echo reply type \(incoming.header.type)")
            var echoed = GrowableOutput()
            switch call.protocolID {
            case .binary:
                var writer = BinaryWriter(GrowableOutput())
                try body.write(to: &writer)
                echoed = writer.output
            case .compact:
                var writer = CompactWriter(GrowableOutput())
                try body.write(to: &writer)
                echoed = writer.output
            }
            precondition(incoming.body.elementsEqual(echoed.bytes), "the echoed arguments came back changed")
        } catch {
            preconditionFailure("reply does not parse: \(error)")
        }
    }
    return bytes
}

/// Deterministic split points from one seed byte, so a crash reproduces from its input.
struct SplitRandom {
    var state: UInt64
    init(seed: UInt8) { state = 0x9E37_79B9_7F4A_7C15 &* (UInt64(seed) &+ 1) }
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 33
    }
    mutating func splits(of count: Int) -> [Int] {
        var ends: [Int] = []
        var at = 0
        while at < count, ends.count < 48 {
            let step = next() % 4 == 0 ? Int(next() % 64) + 1 : Int(next() % 5) + 1
            at = min(count, at + step)
            ends.append(at)
        }
        if ends.last != count { ends.append(count) }
        return ends
    }
}
