import ApusThrift

/// The client end of Thrift over one byte stream, sans-IO (DESIGN decision 11):
/// sequence ids, calls waiting for replies (with deadlines), reply matching by
/// sequence id and name, requests held while the connection opens, and which
/// calls fail, and how, when it does not. Like `ServerConnection` it owns no
/// socket, thread or clock and never calls out: completions are handed back to
/// the transport, which runs them after the connection returns.
///
/// `Request` is what the transport holds for a request not yet written (an
/// encoded NIO buffer, an outgoing message to encode into a send buffer later).
/// Time is the transport's monotonic clock, as a `Duration` since any origin.
package struct ClientConnection<Request>: ~Copyable {
    /// Resumes the caller: runs on the transport's thread while a reply's bytes are valid.
    package typealias Completion = (Result<IncomingMessage, RPCError>) -> Void

    package struct Configuration: Sendable {
        package var framing: ThriftFraming
        package var protocolID: ThriftProtocolID
        package var limits: ThriftLimits
        /// Where the calls go, for error messages ("host:port").
        package var endpoint: String

        package init(framing: ThriftFraming, protocol protocolID: ThriftProtocolID, limits: ThriftLimits, endpoint: String) {
            self.framing = framing
            self.protocolID = protocolID
            self.limits = limits
            self.endpoint = endpoint
        }
    }

    /// A failed call and why, for the transport to complete.
    package struct Failure {
        package var complete: Completion
        package var error: RPCError
        package func run() { complete(.failure(error)) }
    }

    /// What to do with a request just started.
    package enum Send {
        /// The connection is open: write it now.
        case write(Request)
        /// No connection: open one; the request waits for `connected()`.
        case connect
        /// The connection is opening; the request waits for `connected()`.
        case wait
        /// The client is closed: the call has failed.
        case fail(Failure?)
    }

    /// One step of reading replies.
    package enum Input {
        /// A reply for a waiting call, or its failure (a reply naming another method): complete it.
        case reply(Completion, Result<IncomingMessage, RPCError>)
        /// A reply no call waits for (it timed out or was cancelled): dropped.
        case late(sequenceID: Int32)
        /// Everything given was read.
        case needMore
        /// The stream can no longer be trusted: reset the connection, then report `lost(_:)`.
        case reset(reason: String)
    }

    private struct Pending {
        var method: MethodDescriptor
        var deadline: Duration?
        var complete: Completion
        /// Where the reply's THeader headers go, if the caller asked for them.
        var responseMetadata: ResponseMetadata?
    }

    private enum Phase {
        case idle
        case connecting
        case open
        case closed
    }

    package let configuration: Configuration
    private var phase = Phase.idle
    private var reader: MessageReader
    private var pending: [Int32: Pending] = [:]
    private var waiting: [Request] = []
    private var lastSequenceID: Int32 = 0
    /// Nothing was read on the open connection yet: its first bytes are checked for TLS.
    private var atStreamStart = false
    /// No deadline of a pending call is earlier (it may be later: removals do not update it).
    private var earliestDeadline: Duration?

    package init(configuration: Configuration) {
        self.configuration = configuration
        self.reader = MessageReader(framing: configuration.framing, protocol: configuration.protocolID, limits: configuration.limits)
    }

    /// Calls waiting for replies.
    package var pendingCalls: Int { pending.count }

    package var isOpen: Bool { if case .open = phase { true } else { false } }
    package var isClosed: Bool { if case .closed = phase { true } else { false } }

    // MARK: Calls

    /// A fresh sequence id for a call or oneway request.
    package mutating func nextSequenceID() -> Int32 {
        lastSequenceID &+= 1
        return lastSequenceID
    }

    /// Registers a call waiting for its reply until `deadline` (nil: until the connection fails),
    /// and says what to do with its request.
    package mutating func startCall(_ request: consuming Request, sequenceID: Int32, method: MethodDescriptor, deadline: Duration?,
                                    responseMetadata: ResponseMetadata? = nil, complete: @escaping Completion) -> Send {
        if case .closed = phase {
            return .fail(Failure(complete: complete, error: Self.closedError(method)))
        }
        pending[sequenceID] = Pending(method: method, deadline: deadline, complete: complete, responseMetadata: responseMetadata)
        if let deadline { earliestDeadline = min(earliestDeadline ?? deadline, deadline) }
        return send(consume request)
    }

    /// A request that expects no reply (oneway).
    package mutating func startOneway(_ request: consuming Request) -> Send {
        if case .closed = phase { return .fail(nil) }
        return send(consume request)
    }

    /// Requests are moved, never copied, on their way out: a copy retains every reference in them.
    private mutating func send(_ request: consuming Request) -> Send {
        switch phase {
        case .open: return .write(consume request)
        case .connecting:
            waiting.append(consume request)
            return .wait
        case .idle:
            waiting.append(consume request)
            phase = .connecting
            return .connect
        case .closed: return .fail(nil)
        }
    }

    /// Fails one waiting call (cancellation); a late reply is then dropped.
    package mutating func cancel(_ sequenceID: Int32, _ error: RPCError) -> Failure? {
        pending.removeValue(forKey: sequenceID).map { Failure(complete: $0.complete, error: error) }
    }

    // MARK: Connection events

    /// The connection opened: the requests that waited, to write in order.
    package mutating func connected() -> [Request] {
        guard case .connecting = phase else { return [] }
        phase = .open
        atStreamStart = true
        defer { waiting = [] }
        return waiting
    }

    /// Opening the connection failed: every call fails, none of their requests was sent.
    /// Returns the requests dropped too (a transport may owe their senders an answer).
    package mutating func connectFailed(_ reason: String) -> (failures: [Failure], dropped: [Request]) {
        guard case .connecting = phase else { return ([], []) }
        phase = .idle
        let dropped = waiting
        waiting = []
        let error = RPCError(.unavailable, "cannot connect to \(configuration.endpoint): \(reason)", requestWasNotSent: true)
        return (failAll(error), dropped)
    }

    /// The open connection is gone: every waiting call fails (its request may have been
    /// processed); the next call opens a new connection.
    package mutating func lost(_ reason: String) -> [Failure] {
        guard case .open = phase else { return [] }
        phase = .idle
        reader.reset()
        return failAll(RPCError(.unavailable, "connection to \(configuration.endpoint) lost: \(reason)"))
    }

    /// The client is closing for good: calls fail now, and every later one at once.
    package mutating func close() -> (failures: [Failure], dropped: [Request]) {
        let sent = isOpen  // otherwise every pending call's request is still waiting here
        phase = .closed
        reader.reset()
        let dropped = waiting
        waiting = []
        return (failAll(RPCError(.unavailable, "the client to \(configuration.endpoint) is closed", requestWasNotSent: !sent)), dropped)
    }

    // MARK: Replies

    /// Reads the next reply from `input`. Its bytes are valid until the next call on the connection.
    // Prespecialized for the loop-run clients (AF_XDP): called from another module, the generic
    // body looked up its pending-call dictionary's metadata at run time on every reply (runtime
    // metadata lookups, all callers: 2.7% of the XDP client's core at 16 x 8 before, 1.2% after).
    @_specialize(exported: true, where Request == OutgoingMessage)
    package mutating func receive(_ input: inout MessageReader.Input) -> Input {
        guard case .open = phase else { return .needMore }
        if atStreamStart, input.bytes.count - input.offset >= 2 {
            atStreamStart = false
            // A TLS record (alert or handshake, version 3.x) where a reply was due: no Thrift
            // stream starts so (as a frame it would announce over 350 MB).
            let first = input.bytes[input.offset], second = input.bytes[input.offset + 1]
            if first == 0x15 || first == 0x16, second == 0x03 {
                reader.reset()
                return .reset(reason: "the server answered with TLS: connect with TLS (apus bench --tls, or Configuration.tls)")
            }
        }
        let message: IncomingMessage
        let replyHeader: THeader?
        do throws(ThriftError) {
            guard let next = try reader.next(from: &input) else { return .needMore }
            replyHeader = next.header
            message = try IncomingMessage(parsing: next.bytes, protocol: next.protocolID, limits: reader.limits)
        } catch {
            reader.reset()
            return .reset(reason: "malformed reply: \(error)")
        }
        let sequenceID = message.header.sequenceID
        guard let call = pending.removeValue(forKey: sequenceID) else { return .late(sequenceID: sequenceID) }
        if let sink = call.responseMetadata, let replyHeader {
            for (key, value) in replyHeader.headers { sink[key] = value }
        }
        let name = message.header.name
        guard name == call.method.method || name == call.method.multiplexedName else {
            return .reply(call.complete, .failure(RPCError(.wrongMethodName, "reply to \(call.method) is named '\(name.string)'")))
        }
        return .reply(call.complete, .success(message))
    }

    // MARK: Time

    /// When `expire(at:)` must next run; nil when no call has a deadline.
    package var nextDeadline: Duration? { pending.isEmpty ? nil : earliestDeadline }

    /// Fails the calls whose deadline passed.
    package mutating func expire(at now: Duration) -> [Failure] {
        guard let earliest = earliestDeadline, earliest <= now else { return [] }
        var failures: [Failure] = []
        var next: Duration?
        for (sequenceID, call) in pending {
            guard let deadline = call.deadline else { continue }
            if deadline <= now {
                pending[sequenceID] = nil
                failures.append(Failure(complete: call.complete, error: RPCError(
                    .deadlineExceeded, "\(call.method) got no reply from \(configuration.endpoint) within its timeout")))
            } else {
                next = min(next ?? deadline, deadline)
            }
        }
        earliestDeadline = next
        return failures
    }

    // MARK: Internals

    private mutating func failAll(_ error: RPCError) -> [Failure] {
        guard !pending.isEmpty else { return [] }
        let failures = pending.values.map { Failure(complete: $0.complete, error: error) }
        pending = [:]
        earliestDeadline = nil
        return failures
    }

    private static func closedError(_ method: MethodDescriptor) -> RPCError {
        RPCError(.unavailable, "\(method): the client is closed", requestWasNotSent: true)
    }
}

extension ClientConnection where Request == OutgoingMessage {
    /// How a loop-run client names and frames its calls.
    package struct Naming: Sendable {
        /// Send `Service:method` names (TMultiplexedProtocol).
        package var multiplexed: Bool
        /// Wrap each call in a THeader or TTHeader frame (nil: none), in `protocolID`.
        package var header: THeader.Format?
        package var protocolID: ThriftProtocolID

        package init(multiplexed: Bool, header: THeader.Format?, protocol protocolID: ThriftProtocolID) {
            self.multiplexed = multiplexed
            self.header = header
            self.protocolID = protocolID
        }
    }

    /// Starts a call of `method` with `request`, as `naming` says, its deadline `options.timeout`
    /// after `now`; returns what to do with it, the call's sequence id and that deadline (for a
    /// loop that keeps the earliest of its connections').
    package mutating func startCall(_ request: any ThriftMessageBody, method: MethodDescriptor, options: CallOptions, naming: Naming,
                                    at now: Duration, complete: @escaping Completion) -> (send: Send, sequenceID: Int32, deadline: Duration?) {
        let sequenceID = nextSequenceID()
        let header = naming.header.map { options.header($0, protocol: naming.protocolID, sequenceID: sequenceID, method: method.method) }
        let message = OutgoingMessage(name: naming.multiplexed ? method.multiplexedName : method.method, type: .call,
                                      sequenceID: sequenceID, body: request, header: header)
        let deadline = options.timeout.map { now + $0 }
        let send = startCall(message, sequenceID: sequenceID, method: method, deadline: deadline,
                             responseMetadata: options.responseMetadata, complete: complete)
        return (send, sequenceID, deadline)
    }

    /// Starts a oneway request of `method`, named as `naming` says.
    package mutating func startOneway(_ request: any ThriftMessageBody, method: MethodDescriptor, naming: Naming) -> Send {
        let name = naming.multiplexed ? method.multiplexedName : method.method
        return startOneway(OutgoingMessage(name: name, type: .oneway, sequenceID: nextSequenceID(), body: request))
    }
}
