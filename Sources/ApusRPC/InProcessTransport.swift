import ApusThrift
import Synchronization

/// A server transport whose clients live in the same process: requests and
/// replies go through the same stream cores as on a network (`ClientConnection`
/// and `ServerConnection`: framing, sequence ids, reply matching, deadlines,
/// owed replies, draining), as bytes, without sockets, threads or NIO. For
/// tests of services and middleware, and for calling a service in-process
/// through exactly the path a remote caller takes.
///
///     let transport = InProcessServerTransport()
///     let server = RPCServer(transport: transport, router: router)
///     // run the server, then:
///     let echo = Echo.Client(transport.makeClient())
public final class InProcessServerTransport: ServerTransport {
    private let state = Mutex(State())

    private struct State {
        var dispatcher: ServerDispatcher?
        var accepting = false
        var connections: [ObjectIdentifier: InProcessConnection] = [:]
    }

    /// Framing and protocol of the bytes between clients and server.
    public let framing: ThriftFraming
    public let protocolID: ThriftProtocolID
    public let limits: ThriftLimits

    public init(framing: ThriftFraming = .framed, protocol protocolID: ThriftProtocolID = .binary, limits: ThriftLimits = .default) {
        self.framing = framing
        self.protocolID = protocolID
        self.limits = limits
    }

    public func listen(dispatcher: ServerDispatcher) async throws -> PeerAddress {
        state.withLock { state in
            state.dispatcher = dispatcher
            state.accepting = true
        }
        return PeerAddress("in-process")
    }

    public func stopAccepting() async {
        state.withLock { $0.accepting = false }
    }

    public func close() async {
        let connections = state.withLock { state in
            state.accepting = false
            defer { state.connections = [:] }
            return Array(state.connections.values)
        }
        for connection in connections { connection.serverClosed() }
    }

    /// A client whose connection (opened at its first call) reaches this server.
    public func makeClient(multiplexed: Bool = false) -> InProcessClientTransport {
        InProcessClientTransport(server: self, multiplexed: multiplexed)
    }

    /// Opens a connection for `client`, or says why not.
    fileprivate func accept(_ connection: InProcessConnection) -> ServerDispatcher? {
        state.withLock { state in
            guard state.accepting, let dispatcher = state.dispatcher else { return nil }
            state.connections[ObjectIdentifier(connection)] = connection
            return dispatcher
        }
    }

    fileprivate func forget(_ connection: InProcessConnection) {
        _ = state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(connection)) }
    }
}

/// A client of an `InProcessServerTransport`: one connection, any number of calls in flight.
public final class InProcessClientTransport: ClientTransport {
    private let connection: InProcessConnection
    private let multiplexed: Bool

    fileprivate init(server: InProcessServerTransport, multiplexed: Bool) {
        self.connection = InProcessConnection(server: server)
        self.multiplexed = multiplexed
    }

    public func call<Reply: Sendable>(
        _ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions,
        decode: @escaping @Sendable (borrowing IncomingMessage) throws(RPCError) -> Reply
    ) async throws -> Reply {
        let connection = self.connection
        let name = multiplexed ? method.multiplexedName : method.method
        let ticket = Mutex<Int32?>(nil)
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Reply, any Error>) in
                let sequenceID = connection.call(request, name: name, method: method, timeout: options.timeout) { result in
                    continuation.resume(with: result, decode: decode)
                }
                ticket.withLock { $0 = sequenceID }
                // Cancelled while the call was being started: `onCancel` ran before there was a
                // ticket to cancel (cancelling twice is harmless: the second finds nothing).
                if Task.isCancelled {
                    connection.cancel(sequenceID, RPCError(.cancelled, "\(method) was cancelled by the caller"))
                }
            }
        } onCancel: {
            if let sequenceID = ticket.withLock({ $0 }) {
                connection.cancel(sequenceID, RPCError(.cancelled, "\(method) was cancelled by the caller"))
            }
        }
    }

    public func callOneway(_ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions) async throws {
        try connection.oneway(request, name: multiplexed ? method.multiplexedName : method.method)
    }

    /// Closes the connection; calls outstanding, and every later one, fail with `.unavailable`.
    public func close() async { connection.clientClosed() }
}

/// Both ends of one in-process connection. Every step takes the lock, feeds
/// the cores, and applies what they answer after letting go of it, as the
/// network transports do: a dispatched handler that answers inline re-enters
/// through `reply`, never into a core that is in use.
private final class InProcessConnection: @unchecked Sendable {
    private struct Ends: ~Copyable {
        var client: ClientConnection<[UInt8]>
        var server: ServerConnection?
        var dispatcher: ServerDispatcher?
        var state: ConnectionState?
    }

    private let transport: InProcessServerTransport
    private let lock = Mutex(())
    private var ends: Ends  // guarded by `lock`
    private let origin = ContinuousClock.now

    init(server: InProcessServerTransport) {
        self.transport = server
        let configuration = ClientConnection<[UInt8]>.Configuration(
            framing: server.framing, protocol: server.protocolID, limits: server.limits, endpoint: "in-process")
        ends = Ends(client: ClientConnection(configuration: configuration))
    }

    /// Runs `body` on both ends under the lock.
    private func withEnds<T>(_ body: (inout Ends) throws(RPCError) -> T) throws(RPCError) -> T {
        var result: Result<T, RPCError>?
        lock.withLock { _ in
            do throws(RPCError) { result = .success(try body(&ends)) } catch { result = .failure(error) }
        }
        return try result!.get()
    }

    private func withEnds<T>(_ body: (inout Ends) -> T) -> T {
        var result: T?
        lock.withLock { _ in result = body(&ends) }
        return result!
    }

    private var now: Duration { origin.duration(to: .now) }

    func call(_ request: some ThriftMessageBody, name: String, method: MethodDescriptor, timeout: Duration?,
              complete: @escaping ClientConnection<[UInt8]>.Completion) -> Int32 {
        let now = self.now
        let (sequenceID, step): (Int32, Step) = withEnds { ends in
            let sequenceID = ends.client.nextSequenceID()
            let bytes: [UInt8]
            do throws(ThriftError) {
                bytes = try encode(OutgoingMessage(name: name, type: .call, sequenceID: sequenceID, body: request))
            } catch {
                return (sequenceID, .fail([.init(complete: complete, error: RPCError(
                    .protocolError, "cannot encode the call to \(method): \(error)", cause: error, requestWasNotSent: true))]))
            }
            let send = ends.client.startCall(bytes, sequenceID: sequenceID, method: method, deadline: timeout.map { now + $0 },
                                             complete: complete)
            return (sequenceID, nextStep(for: send, &ends))
        }
        run(step)
        if let timeout { scheduleExpiry(after: timeout) }
        return sequenceID
    }

    func oneway(_ request: some ThriftMessageBody, name: String) throws {
        let step: Step = try withEnds { ends throws(RPCError) in
            let message = OutgoingMessage(name: name, type: .oneway, sequenceID: ends.client.nextSequenceID(), body: request)
            let bytes: [UInt8]
            do throws(ThriftError) { bytes = try encode(message) } catch {
                throw RPCError(.protocolError, "cannot encode oneway \(name): \(error)", cause: error, requestWasNotSent: true)
            }
            let send = ends.client.startOneway(bytes)
            if case .fail = send { throw RPCError(.unavailable, "oneway \(name): the client is closed", requestWasNotSent: true) }
            return nextStep(for: send, &ends)
        }
        run(step)
    }

    func cancel(_ sequenceID: Int32, _ error: RPCError) {
        withEnds { $0.client.cancel(sequenceID, error) }?.run()
    }

    // MARK: Steps

    /// What to do once the lock is let go.
    private enum Step {
        case none
        case fail([ClientConnection<[UInt8]>.Failure])
        /// Messages the server read, to dispatch in order.
        case dispatch([[UInt8]], ServerDispatcher, ConnectionState)
    }

    private func nextStep(for send: ClientConnection<[UInt8]>.Send, _ ends: inout Ends) -> Step {
        switch send {
        case .write(let bytes): return serverReads(bytes, &ends)
        case .wait: return .none
        case .fail(let failure): return .fail(failure.map { [$0] } ?? [])
        case .connect:
            guard let dispatcher = transport.accept(self) else {
                return .fail(ends.client.connectFailed("the in-process server is not accepting connections").failures)
            }
            ends.dispatcher = dispatcher
            ends.state = ConnectionState(remotePeer: PeerAddress("in-process"), localPeer: PeerAddress("in-process"))
            ends.server = ServerConnection(configuration: .init(
                framing: nil, protocol: nil, limits: dispatcher.limits, readTimeout: .seconds(30), idleTimeout: nil,
                maximumOwedReplies: .max), at: now)  // in-process, the caller's own memory holds the calls
            var messages: [[UInt8]] = []
            for request in ends.client.connected() {
                if case .dispatch(let more, _, _) = serverReads(request, &ends) { messages += more }
            }
            return .dispatch(messages, dispatcher, ends.state!)
        }
    }

    /// Feeds request bytes to the server end; the messages come back copied (the lock is let go before dispatch).
    private func serverReads(_ bytes: [UInt8], _ ends: inout Ends) -> Step {
        guard ends.server != nil, let dispatcher = ends.dispatcher, let state = ends.state else { return .none }
        let now = self.now
        var messages: [[UInt8]] = []
        bytes.withUnsafeBytes { raw in
            var input = MessageReader.Input(raw)
            while case .message(let message) = ends.server!.receive(&input, at: now) { messages.append(Array(message.bytes)) }
        }
        return .dispatch(messages, dispatcher, state)
    }

    private func run(_ step: Step) {
        switch step {
        case .none: break
        case .fail(let failures): for failure in failures { failure.run() }
        case .dispatch(let messages, let dispatcher, let state):
            let sink = InProcessSink(connection: self)
            for message in messages {
                let outcome = message.withUnsafeBytes { dispatcher.dispatch($0, protocol: nil, connection: state, sink: sink) }
                withEnds { ends in _ = ends.server?.dispatched(outcome) }
            }
        }
    }

    /// A reply from the dispatcher: through the server end, then into the client end.
    fileprivate func reply(_ message: OutgoingMessage, protocol protocolID: ThriftProtocolID) {
        let now = self.now
        withEnds { ends in
            guard ends.server != nil, let reply = ends.server!.prepareReply(message, protocol: protocolID, at: now).reply else { return }
            var bytes = [UInt8](repeating: 0, count: reply.size)
            guard bytes.withUnsafeMutableBytes({ reply.write(into: $0) }) == reply.size else { return }
            bytes.withUnsafeBytes { raw in
                var input = MessageReader.Input(raw)
                // Completions decode while the reply's bytes are valid and resume their callers later,
                // on the callers' executors: nothing runs here that could come back into this lock.
                while true {
                    switch ends.client.receive(&input) {
                    case .reply(let complete, let result): complete(result)
                    case .late, .reset: continue
                    case .needMore: return
                    }
                }
            }
        }
    }

    private func scheduleExpiry(after timeout: Duration) {
        Task { [weak self] in
            try? await Task.sleep(for: timeout)
            guard let self else { return }
            let now = self.now
            for failure in withEnds({ $0.client.expire(at: now) }) { failure.run() }
        }
    }

    // MARK: Closing

    func clientClosed() {
        let failures = withEnds { ends in
            ends.server?.closed()
            ends.state?.markClosed()
            return ends.client.close().failures
        }
        transport.forget(self)
        for failure in failures { failure.run() }
    }

    func serverClosed() {
        let failures = withEnds { ends in
            ends.server?.closed()
            ends.server = nil
            ends.state?.markClosed()
            return ends.client.lost("the in-process server closed")
        }
        for failure in failures { failure.run() }
    }

    private func encode(_ message: OutgoingMessage) throws(ThriftError) -> [UInt8] {
        let wire = try WireMessage(message, protocol: transport.protocolID, framing: transport.framing)
        var bytes = [UInt8](repeating: 0, count: wire.size)
        _ = bytes.withUnsafeMutableBytes { wire.write(into: $0) }
        return bytes
    }
}

private final class InProcessSink: ResponseSink, @unchecked Sendable {
    let connection: InProcessConnection

    init(connection: InProcessConnection) { self.connection = connection }

    func send(_ message: consuming OutgoingMessage, protocol protocolID: ThriftProtocolID) {
        connection.reply(consume message, protocol: protocolID)
    }
}
