import ApusThrift
import Logging
import Synchronization

/// Where a transport wants replies for one connection delivered. Called
/// from the call's task, on whatever executor it finished on; the transport
/// encodes the message into its own memory (a NIO buffer, a TX frame). A class,
/// so the dispatcher holds any sink in two words: no box, no generic code per call.
public protocol ResponseSink: AnyObject, Sendable {
    func send(_ message: consuming OutgoingMessage, protocol protocolID: ThriftProtocolID)
}

/// The part of the server both transports share: message in, routed,
/// middleware, handler, reply out. Transports find message boundaries and
/// own the bytes; the dispatcher decides what each message means. Its
/// members are for Apus's own transports (`package`): to applications it is
/// the handle `RPCServer` passes to a `ServerTransport`.
public final class ServerDispatcher: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// The message was taken; when `expectsReply`, exactly one reply goes to the sink
        /// (already, or when the call's task finishes), unless the connection closed first.
        case dispatched(expectsReply: Bool)
        /// The message is unusable and the stream can no longer be trusted:
        /// close the connection (the reason is for the log).
        case closeConnection(reason: String)
    }

    let router: Router
    /// The handler chain in a class: a call's task holds it by one reference, where holding
    /// the existential copied the chain's value (the router's tables among it) on every call.
    private let chain: HandlerChain
    /// The chain adds nothing before the routes (no middleware, or only absent ones): a call to
    /// a route without layers of its own runs its method directly.
    private let forwardsToRoutes: Bool
    package let logger: Logger
    package let limits: ThriftLimits
    private let inFlight = Atomic<Int>(0)
    /// Expires calls whose caller's deadline passed.
    package let deadlines = DeadlineSweeper()
    private let draining = Atomic<Bool>(false)
    private let connectionLog = Mutex(LogLimiter())
    private let clockOrigin = ContinuousClock.now

    /// The longest any call may run (nil: as long as its caller waits), enforced with the
    /// caller's deadline by the sweeper: no task or timer per call.
    package let callTimeout: Duration?

    package init(router: Router, handler: any RPCHandler, limits: ThriftLimits = .default, callTimeout: Duration? = nil,
                 logger: Logger) {
        self.router = router
        self.chain = HandlerChain.boxing(handler)
        self.forwardsToRoutes = handler.forwardsToRoutes
        self.limits = limits
        self.callTimeout = callTimeout
        self.logger = logger
    }

    /// The THeader info header that carries the caller's remaining time in milliseconds, as
    /// fbthrift's clients and servers write and read it.
    public static let clientTimeoutHeader = "client_timeout"

    /// Logs what a transport does to a connection on its stream core's word: a reset as a
    /// warning (at most one line a second, with the count of those left out), a close at debug.
    /// Both transports log through here, so the lines are the same on either.
    package func log(_ action: ServerConnection.Action, peer: PeerAddress) {
        switch action {
        case .reset(let reason):
            let now = clockOrigin.duration(to: .now)
            guard let suppressed = connectionLog.withLock({ $0.admit("reset", at: now) }) else { return }
            var metadata: Logger.Metadata = ["peer": "\(peer)", "reason": "\(reason)"]
            if suppressed > 0 { metadata["resetsNotLogged"] = "\(suppressed)" }
            logger.warning("resetting connection", metadata: metadata)
        case .close(let reason):
            logger.debug("closing connection", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
        }
    }

    /// Calls accepted and not yet answered.
    package var inFlightCalls: Int { inFlight.load(ordering: .relaxed) }

    package var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// Refuse new calls from now on (graceful shutdown); calls already running finish.
    package func beginDraining() { draining.store(true, ordering: .relaxed) }

    /// Waits until no call is in flight or `gracePeriod` passed; true when drained.
    package func waitForInFlightCalls(gracePeriod: Duration) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: gracePeriod)
        while inFlightCalls > 0 {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    /// Handles one complete message in `bytes` (borrowed: decoded before this returns).
    ///
    /// - Unknown method, a reply or exception sent to the server, undecodable
    ///   arguments: answered with the matching TApplicationException; the
    ///   connection stays usable.
    /// - A header that does not parse: `.closeConnection`.
    /// - A synchronous handler (`RPCMethod.inline`) with no middleware in its
    ///   way runs right here, and its reply is sent before this returns.
    /// - Otherwise the call runs in a task that starts immediately on this
    ///   thread (`Task.immediate`), preferring `executor` when it suspends,
    ///   so a handler that never suspends completes inline, before this returns.
    package func dispatch(
        _ bytes: UnsafeRawBufferPointer, protocol protocolID: ThriftProtocolID?,
        connection: ConnectionState, sink: any ResponseSink, executor: (any TaskExecutor)? = nil,
        header transportHeader: THeader? = nil
    ) -> Outcome {
        // A call in THeader (TTHeader) is answered in the same: same protocol, frame sequence
        // number, flags and transforms, the handler's response headers as its info headers.
        let call = transportHeader == nil ? 0 : connection.beginHeaderCall()
        var finishes = false
        let outcome = dispatch(bytes, protocol: protocolID, connection: connection, sink: sink, executor: executor,
                               header: transportHeader, headerCall: call, finishes: &finishes)
        if transportHeader != nil && !finishes { connection.endHeaderCall(call) }  // refused at once, or a oneway not run
        return outcome
    }

    private func dispatch(
        _ bytes: UnsafeRawBufferPointer, protocol protocolID: ThriftProtocolID?,
        connection: ConnectionState, sink: any ResponseSink, executor: (any TaskExecutor)?,
        header transportHeader: THeader?, headerCall: UInt64, finishes: inout Bool  // set: `finish` closes the header slot
    ) -> Outcome {
        let message: IncomingMessage
        do throws(ThriftError) {
            message = try IncomingMessage(parsing: bytes, protocol: protocolID, limits: limits)
        } catch {
            return .closeConnection(reason: "unreadable message header: \(error)")
        }
        let header = message.header
        let reply = CallReply(sink: sink, protocolID: message.protocolID, connection: connection,
                              request: transportHeader, call: headerCall)
        guard let route = router.route(named: header.name) else {
            let name = header.name.string
            logger.debug("unknown method", metadata: ["method": "\(name)", "peer": "\(connection.remotePeer)"])
            guard header.type != .oneway else { return .dispatched(expectsReply: false) }
            reply.send(.exception(RPCError(.unknownMethod, "unknown method '\(name)'"), name: name, sequenceID: header.sequenceID))
            return .dispatched(expectsReply: true)
        }
        let descriptor = route.method.descriptor
        guard header.type == .call || header.type == .oneway else {
            reply.send(.exception(RPCError(.invalidMessageType, "a server accepts call and oneway messages, not \(header.type)"),
                                  name: descriptor.method, sequenceID: header.sequenceID))
            return .dispatched(expectsReply: true)
        }
        let expectsReply = header.type == .call && descriptor.kind == .call
        if isDraining {
            if expectsReply {
                reply.send(.exception(RPCError(.unavailable, "server is shutting down"), name: descriptor.method,
                                      sequenceID: header.sequenceID))
            }
            return .dispatched(expectsReply: expectsReply)
        }
        // A synchronous handler with nothing in its way runs below, on this thread, with no task.
        let direct = forwardsToRoutes && route.isBare
        let inline = direct ? route.method.inline : nil
        var invocation: RPCMethod.Invocation?
        // Arguments read in place are lent for the call's inline part and taken back below.
        var lent: BorrowedArguments?
        if inline == nil {
            do throws(RPCError) {
                if let prepareBorrowing = route.method.prepareBorrowing {
                    let arguments = BorrowedArguments(borrowing: message.body, protocol: message.protocolID, limits: message.limits)
                    lent = arguments
                    invocation = prepareBorrowing(arguments)
                } else {
                    invocation = try route.method.prepare(message)
                }
            } catch {
                logger.debug("undecodable arguments", metadata: ["method": "\(descriptor)", "error": "\(error)"])
                if expectsReply {
                    reply.send(.exception(error, name: descriptor.method, sequenceID: header.sequenceID))
                }
                return .dispatched(expectsReply: expectsReply)
            }
        }
        var metadata = [String: String]()
        var deadline: ContinuousClock.Instant?
        if let transportHeader {
            metadata = transportHeader.persistentHeaders.isEmpty
                ? transportHeader.headers : transportHeader.persistentHeaders.merging(transportHeader.headers) { $1 }
            // The caller's remaining time (fbthrift's `client_timeout`, TTHeader's int key 12;
            // milliseconds): spent already, the call is refused before its handler runs; else
            // it bounds the handler.
            if let value = transportHeader.intHeaders[THeader.TTKey.rpcTimeout] ?? metadata[Self.clientTimeoutHeader],
               let milliseconds = Int64(value) {
                guard milliseconds > 0 else {
                    if expectsReply {
                        reply.send(.exception(RPCError(.deadlineExceeded, "\(descriptor) arrived with its deadline already passed"),
                                              name: descriptor.method, sequenceID: header.sequenceID))
                    }
                    return .dispatched(expectsReply: expectsReply)
                }
                deadline = ContinuousClock.now.advanced(by: .milliseconds(milliseconds))
            }
        }
        // The server's own bound, when it comes before the caller's.
        var serverTimeout: Duration?
        if let callTimeout {
            let limit = ContinuousClock.now.advanced(by: callTimeout)
            if deadline.map({ limit < $0 }) ?? true {
                deadline = limit
                serverTimeout = callTimeout
            }
        }
        let context = ServerContext(
            method: descriptor, sequenceID: header.sequenceID, messageType: header.type, connection: connection,
            deadline: deadline, metadata: metadata, intMetadata: transportHeader?.intHeaders ?? Dictionary(), logger: logger,
            replyHeaders: transportHeader == nil ? .fixed(.discarded) : .call(connection, headerCall))
        inFlight.add(1, ordering: .relaxed)
        finishes = true
        if let inline {
            // Done before this returns: no deadline watch (nothing could cancel it), no task-local deadline
            // (a synchronous handler makes no calls), the request's bytes still valid.
            let outcome: Result<ServerResponse, any Error>
            do {
                outcome = .success(try inline(message, context))
            } catch {
                outcome = .failure(error)
            }
            finish(outcome, context: context, reply: reply, expectsReply: expectsReply, deadlineCall: nil, watch: nil,
                   headerCall: headerCall)
            return .dispatched(expectsReply: expectsReply)
        }
        let request = ServerRequest(route: route, invocation: invocation!)
        // The deadline (the caller's or the server's): the sweeper answers DEADLINE_EXCEEDED and cancels the task if
        // the handler has not finished by then; whichever answer comes first is sent.
        let deadlineCall = deadline.map { _ in
            DeadlineCall(reply: reply, method: descriptor, sequenceID: header.sequenceID, expectsReply: expectsReply,
                         serverTimeout: serverTimeout)
        }
        let watch = deadline.flatMap { deadline in deadlineCall.map { deadlines.add($0, deadline: deadline) } }
        // Captured by moving: a plain capture copied the context, request and reply into the task's box (a
        // retain per reference in them) and released the originals here.
        let task = Task.immediate(executorPreference: executor) {
            [chain, direct, context = consume context, request = consume request, reply = consume reply] in
            // Only the handler's await here: the task's async frame holds what lives across it. The
            // answer, its logging and its sending are `finish`'s, synchronous, whose temporaries
            // would otherwise be slots of that frame (1,456 bytes, more than the task allocator's
            // first slab, so a malloc per call).
            let outcome: Result<ServerResponse, any Error>
            do {
                if let deadline = context.deadline {
                    // The deadline is the task's too, for the calls the handler makes.
                    outcome = .success(try await CallDeadline.$current.withValue(deadline) {
                        direct ? try await request.invocation(context) : try await chain.handle(request, context: context)
                    })
                } else if direct {
                    outcome = .success(try await request.invocation(context))
                } else {
                    outcome = .success(try await chain.handle(request, context: context))
                }
            } catch {
                outcome = .failure(error)
            }
            self.finish(outcome, context: context, reply: reply, expectsReply: expectsReply, deadlineCall: deadlineCall,
                        watch: watch, headerCall: headerCall)
        }
        // The transport reuses `bytes` once this returns: a call still short of its handler gets a copy.
        lent?.end()
        deadlineCall?.attach(task)
        return .dispatched(expectsReply: expectsReply)
    }

    /// A call's end, on the thread its task ended on: the answer made from the handler's outcome
    /// (an undeclared error logged, at most once a second), sent unless the deadline answered
    /// first, the call's deadline watch and header slot released.
    private func finish(
        _ outcome: consuming Result<ServerResponse, any Error>, context: ServerContext, reply: CallReply, expectsReply: Bool,
        deadlineCall: DeadlineCall?, watch: UInt64?, headerCall: UInt64
    ) {
        let descriptor = context.method
        let answer: OutgoingMessage?
        switch consume outcome {
        case .success(let response):
            if !expectsReply {
                answer = nil
            } else if let body = response.body {
                answer = OutgoingMessage(name: descriptor.method, type: .reply, sequenceID: context.sequenceID, body: body)
            } else {
                answer = .exception(RPCError(.missingResult, "\(descriptor) produced no result"),
                                    name: descriptor.method, sequenceID: context.sequenceID)
            }
        case .failure(let error as RPCError):
            answer = expectsReply ? .exception(error, name: descriptor.method, sequenceID: context.sequenceID) : nil
        case .failure where deadlineCall?.isExpired == true:
            answer = nil  // answered DEADLINE_EXCEEDED already; the handler ended on its cancellation
        case .failure(let error):
            // Undeclared errors: the peer learns only that the call failed; the cause goes to the log.
            // At most one line a second: a peer can make a handler fail on every call.
            let now = clockOrigin.duration(to: .now)
            if let suppressed = connectionLog.withLock({ $0.admit("undeclared error", at: now) }) {
                var metadata: Logger.Metadata = ["method": "\(descriptor)", "error": "\(error)", "peer": "\(context.remotePeer)"]
                if suppressed > 0 { metadata["errorsNotLogged"] = "\(suppressed)" }
                logger.error("handler threw an undeclared error", metadata: metadata)
            }
            answer = expectsReply
                ? .exception(RPCError(.internalError, "internal error in \(descriptor)"), name: descriptor.method,
                             sequenceID: context.sequenceID)
                : nil
        }
        if let watch { deadlines.remove(watch) }
        var sent = false
        if let answer = consume answer, !reply.connection.isClosed, deadlineCall?.claim() ?? true {
            reply.send(answer)  // closes the call's header slot
            sent = true
        }
        deadlineCall?.finished()
        // No reply from here (oneway, closed, answered on expiry): close the slot if still open.
        if reply.request != nil && !sent { reply.connection.endHeaderCall(headerCall) }
        inFlight.subtract(1, ordering: .relaxed)
    }
}

/// Where one call's answer goes: its connection's sink, in the call's protocol, and for a
/// call that came in THeader (TTHeader) in the same form (format, flags, frame sequence
/// number, transforms) with the reply headers its handler set. A value carried in the call's
/// task: no allocation of its own.
struct CallReply: Sendable {
    let sink: any ResponseSink
    let protocolID: ThriftProtocolID
    let connection: ConnectionState
    /// The call's own header; nil for plain framed or buffered calls.
    let request: THeader?
    /// The call's slot in the connection's table of header calls (when `request` is not nil).
    let call: UInt64

    func send(_ message: consuming OutgoingMessage) {
        if let request {
            message.header = request.reply(protocol: protocolID, headers: connection.endHeaderCall(call))
        }
        sink.send(consume message, protocol: protocolID)
    }
}
