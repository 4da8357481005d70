import ApusThrift

/// The server end of Thrift over one byte stream, sans-IO (DESIGN decision 11):
/// fed received bytes, replies and time by its transport, it answers with
/// messages to dispatch, replies sized for the wire and what to do with the
/// connection. It owns no socket, thread or clock, and never calls out, so
/// nothing a transport does while applying its answers can re-enter it.
///
/// Both transports drive it the same way:
///
///     var input = MessageReader.Input(bytes)
///     while case .message(let message) = connection.receive(&input, at: now) {
///         let outcome = dispatcher.dispatch(message.bytes, ...)   // core not borrowed here
///         if let action = connection.dispatched(outcome) { apply(action) }
///     }
///     // a reply from the sink:  write(connection.prepareReply(message, protocol: p))
///     // timers:                 connection.nextDeadline / connection.expire(at:)
///
/// Time is the transport's monotonic clock, as a `Duration` since any origin.
package struct ServerConnection: ~Copyable {
    /// The policy the connection follows (the same on every transport).
    package typealias Configuration = ServerConnectionPolicy

    /// What the transport must do with the connection.
    package enum Action: Equatable, Sendable {
        /// Finish sending what is queued, then close (FIN).
        case close(reason: String)
        /// Drop everything and reset (RST): the stream can no longer be trusted.
        case reset(reason: String)
    }

    /// One step of reading.
    package enum Input {
        /// A complete message: dispatch it, then report the outcome with `dispatched(_:)`.
        case message(MessageReader.Message)
        /// Everything given was read; nothing complete remains.
        case needMore
        /// Stop reading: `maximumOwedReplies` calls are in progress. Keep the rest of the input
        /// (or `stash` it) and call `receive` again once `isPaused` is false.
        case paused
        /// Apply this and stop reading.
        case action(Action)
    }

    private enum Phase: Equatable {
        case open
        /// The peer sent FIN (at that time): answer what is owed, then close.
        case peerFinished(since: Duration)
        /// The server is shutting down (since then): answer what is owed, then close.
        case draining(since: Duration)
        case closed
    }

    package let configuration: Configuration
    private var reader: MessageReader
    private var phase = Phase.open
    /// Calls received that expect a reply not yet handed to the transport.
    package private(set) var owedReplies = 0
    /// When bytes last arrived, or a reply last went out.
    private var lastActivity: Duration
    /// When the first byte of the message now in progress (held by the reader) arrived.
    private var messageSince: Duration?
    /// The reader holds input stashed while paused, which may hold complete messages.
    private var stashed = false
    /// THeader's persistent headers (INFO_PKEYVALUE): sent once, they hold for every later
    /// message of the connection.
    private var persistentHeaders: [String: String] = [:]

    package init(configuration: Configuration, at now: Duration) {
        self.configuration = configuration
        self.reader = MessageReader(framing: configuration.framing, protocol: configuration.protocolID, limits: configuration.limits)
        self.lastActivity = now
    }

    /// The framing of replies: the requests' (sniffed) or the configured one.
    package var replyFraming: ThriftFraming { reader.framing ?? .framed }

    /// Bytes held for a message not yet complete.
    package var bufferedBytes: Int { reader.bufferedBytes }

    package var isClosed: Bool { phase == .closed }

    /// Too many replies owed: read no more requests until some go out.
    package var isPaused: Bool { owedReplies >= configuration.maximumOwedReplies }

    /// Whether messages already received wait to be read (stashed while paused).
    package var hasBufferedInput: Bool { reader.bufferedBytes > 0 }

    /// Keeps the rest of `input` to be read by later calls to `receive` (while paused).
    package mutating func stash(_ input: inout MessageReader.Input, at now: Duration) {
        guard phase != .closed else { return }
        if !input.isExhausted {
            lastActivity = now
            stashed = true
        }
        reader.stash(&input)
    }

    // MARK: Input

    /// Reads the next message from `input`. A message is valid until the next call on the connection.
    package mutating func receive(_ input: inout MessageReader.Input, at now: Duration) -> Input {
        guard phase != .closed else { return .needMore }
        if !input.isExhausted { lastActivity = now }
        if isPaused { return .paused }
        if case .peerFinished = phase { return receiveStashedAfterFIN() }
        do throws(ThriftError) {
            guard let message = try reader.next(from: &input) else {
                stashed = false  // every complete message stashed has been read
                if reader.bufferedBytes == 0 {
                    messageSince = nil
                } else if messageSince == nil {
                    messageSince = now
                }
                return .needMore
            }
            if message.wasReassembled { messageSince = nil }
            return .message(withPersistentHeaders(message))
        } catch {
            return .action(fail("malformed or oversized input: \(error)"))
        }
    }

    /// After the peer's FIN only stashed bytes remain (nothing can follow a FIN): complete
    /// messages among them are still answered, a message the FIN cut off is dropped.
    private mutating func receiveStashedAfterFIN() -> Input {
        guard reader.bufferedBytes > 0 else { return .needMore }
        var none = MessageReader.Input(UnsafeRawBufferPointer(start: nil, count: 0))
        do throws(ThriftError) {
            if let message = try reader.next(from: &none) { return .message(withPersistentHeaders(message)) }
        } catch {
            return .action(fail("malformed input before the peer's FIN: \(error)"))
        }
        reader.reset()
        stashed = false
        return closeIfDone().map(Input.action) ?? .needMore
    }

    /// When the message in progress must be complete by.
    private var messageDeadline: Duration? {
        guard reader.bufferedBytes > 0, let since = messageSince else { return nil }
        let rate = configuration.minimumReadRate
        let earned: Duration = rate > 0 ? .nanoseconds(Int64(clamping: reader.bufferedBytes) &* 1_000_000_000 / Int64(rate)) : .zero
        return since + configuration.readTimeout + earned
    }

    /// Reports what the dispatcher made of the last message.
    package mutating func dispatched(_ outcome: ServerDispatcher.Outcome) -> Action? {
        switch outcome {
        case .dispatched(let expectsReply):
            if expectsReply { owedReplies += 1 }
            return nil
        case .closeConnection(let reason):
            return fail(reason)
        }
    }

    /// The peer finished sending (FIN, or end of stream): close once every owed reply is out.
    /// Messages stashed while paused are still read (call `receive` while `hasBufferedInput`);
    /// a message cut off by the FIN is dropped.
    package mutating func peerFinished(at now: Duration) -> Action? {
        guard phase == .open || isDraining else { return nil }
        if !stashed { reader.reset() }
        messageSince = nil
        phase = .peerFinished(since: now)
        return closeIfDone()
    }

    /// The server is shutting down: new calls are refused by the dispatcher; close once every
    /// owed reply is out (or the drain timeout passes).
    package mutating func beginDraining(at now: Duration) -> Action? {
        guard phase == .open else { return nil }
        phase = .draining(since: now)
        return closeIfDone()
    }

    /// The transport lost the connection (reset, error, closed): forget everything.
    package mutating func closed() {
        phase = .closed
        stashed = false
        messageSince = nil
        reader.reset()
        owedReplies = 0
    }

    // MARK: Output

    /// A reply from the dispatcher, sized for the wire in the connection's framing; plus what to
    /// do once it is written (close after the last owed reply of a finished peer). A reply that
    /// cannot be encoded becomes an INTERNAL_ERROR exception, so the caller still gets an answer.
    package mutating func prepareReply(_ message: consuming OutgoingMessage, protocol protocolID: ThriftProtocolID,
                                       at now: Duration) -> (reply: WireMessage?, then: Action?) {
        guard phase != .closed else { return (nil, nil) }
        owedReplies -= 1
        lastActivity = now
        let reply: WireMessage?
        // Moved into the reply, not copied: what the fallback needs is taken first.
        let (name, sequenceID, header) = (message.name, message.sequenceID, message.header)
        do throws(ThriftError) {
            reply = try WireMessage(consume message, protocol: protocolID, framing: replyFraming)
        } catch {
            var fallback = OutgoingMessage.exception(RPCError(.internalError, "reply could not be encoded: \(error.kind)"),
                                                     name: name, sequenceID: sequenceID)
            fallback.header = header
            reply = try? WireMessage(fallback, protocol: protocolID, framing: replyFraming)
        }
        return (consume reply, closeIfDone())
    }

    // MARK: Time

    /// When `expire(at:)` must next run, nil when no timer is due.
    package var nextDeadline: Duration? {
        switch phase {
        case .closed: return nil
        case .peerFinished(let since), .draining(let since): return since + configuration.drainTimeout
        case .open:
            if let deadline = messageDeadline { return deadline }
            if owedReplies > 0 { return nil }
            return configuration.idleTimeout.map { lastActivity + $0 }
        }
    }

    /// Applies the timers due at `now`.
    package mutating func expire(at now: Duration) -> Action? {
        switch phase {
        case .closed: return nil
        case .peerFinished(let since), .draining(let since):
            guard now - since >= configuration.drainTimeout else { return nil }
            phase = .closed
            return .close(reason: "\(owedReplies) replies still owed \(configuration.drainTimeout) after the connection began to close")
        case .open:
            let silent = now - lastActivity
            if let deadline = messageDeadline, let since = messageSince {
                guard now >= deadline else { return nil }
                return fail("message incomplete after \(now - since) (\(reader.bufferedBytes) bytes, under the minimum of "
                            + "\(configuration.minimumReadRate) bytes/s after \(configuration.readTimeout))")
            }
            guard owedReplies == 0, let idle = configuration.idleTimeout, silent >= idle else { return nil }
            phase = .closed
            return .close(reason: "idle for \(silent)")
        }
    }

    // MARK: Internals

    private mutating func withPersistentHeaders(_ message: MessageReader.Message) -> MessageReader.Message {
        guard var header = message.header, !(persistentHeaders.isEmpty && header.persistentHeaders.isEmpty) else { return message }
        if !header.persistentHeaders.isEmpty { persistentHeaders.merge(header.persistentHeaders) { $1 } }
        header.persistentHeaders = persistentHeaders
        var message = message
        message.header = header
        return message
    }

    private var isDraining: Bool {
        if case .draining = phase { return true }
        return false
    }

    private mutating func closeIfDone() -> Action? {
        switch phase {
        case .peerFinished, .draining:
            guard owedReplies <= 0, reader.bufferedBytes == 0 || isDraining else { return nil }
            let reason = isDraining ? "server shutting down" : "the peer closed its side"
            phase = .closed
            return .close(reason: reason)
        default:
            return nil
        }
    }

    private mutating func fail(_ reason: String) -> Action {
        phase = .closed
        stashed = false
        messageSince = nil
        reader.reset()
        return .reset(reason: reason)
    }
}
