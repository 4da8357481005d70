import ApusNet
import ApusRPC
import ApusThrift
import ApusWire
import Logging

/// One queue's client side: a pool of connections to one server, each a
/// `ClientConnection` stream core; requests are encoded straight into the
/// TCP send buffer at the loop's output step.
@usableFromInline
final class XDPClientPool: QueueApplication, ConnectionCallCancelling, @unchecked Sendable {
    struct Configuration {
        var server: IPv4Address
        var port: UInt16
        var framing: ThriftFraming
        var protocolID: ThriftProtocolID
        var limits: ThriftLimits
        var connections: Int
        var multiplexed: Bool
        var header: THeader.Format?
    }

    unowned let engine: QueueEngine
    let configuration: Configuration
    private let pool: [XDPClientConnection]
    private var next = 0
    private var connections: [TCPHandle: XDPClientConnection] = [:]
    /// Requests to write at the next output step (optional: each is taken out of its slot, not copied).
    private var outbox: [(XDPClientConnection, OutgoingMessage)?] = []
    /// No pending call's deadline is earlier (a finished call's may linger: `expire` corrects it).
    private var earliestDeadline = NetInstant.distantFuture
    private var writing: [(XDPClientConnection, OutgoingMessage)?] = []
    private var connectsDue: [XDPClientConnection] = []
    private var resetsDue: [XDPClientConnection] = []

    init(engine: QueueEngine, configuration: Configuration) {
        self.engine = engine
        self.configuration = configuration
        let core = ClientConnection<OutgoingMessage>.Configuration(
            framing: configuration.header != nil ? .framed : configuration.framing, protocol: configuration.protocolID, limits: configuration.limits,
            endpoint: "\(configuration.server):\(configuration.port)")
        pool = (0..<configuration.connections).map { _ in XDPClientConnection(core: ClientConnection(configuration: core)) }
    }

    func start(_ stack: inout NetStack) {}
    func stopAccepting(_ stack: inout NetStack) {}

    var openHandles: [TCPHandle] { Array(connections.keys) }

    /// The engine's frames per pass (see `QueueEngine.Options.receiveBatch`).
    var receiveBatch: Int { 64 }

    // MARK: Calls (on the queue's thread)

    private func pick() -> XDPClientConnection {
        let connection = pool[next]
        next = next + 1 == pool.count ? 0 : next + 1
        return connection
    }

    private var naming: ClientConnection<OutgoingMessage>.Naming {
        .init(multiplexed: configuration.multiplexed, header: configuration.header, protocol: configuration.protocolID)
    }

    /// Registers a call and queues its request; nil when it failed at once (the client is closed).
    @usableFromInline
    func startCall(_ request: any ThriftMessageBody, method: MethodDescriptor, options: CallOptions,
                   complete: @escaping (Result<IncomingMessage, RPCError>) -> Void) -> ConnectionCall<XDPClientPool>? {
        let connection = pick()
        let (send, sequenceID, deadline) = connection.core.startCall(request, method: method, options: options, naming: naming,
                                                                     at: MonotonicClock.now().streamTime, complete: complete)
        if let deadline { earliestDeadline = min(earliestDeadline, NetInstant(streamTime: deadline)) }
        guard apply(consume send, on: connection) else { return nil }
        return ConnectionCall(client: self, connection: connection, sequenceID: sequenceID, method: method)
    }

    /// Queues a oneway request; false when the client is closed.
    func startOneway(_ request: any ThriftMessageBody, method: MethodDescriptor) -> Bool {
        let connection = pick()
        return apply(connection.core.startOneway(request, method: method, naming: naming), on: connection)
    }

    private func apply(_ send: consuming ClientConnection<OutgoingMessage>.Send, on connection: XDPClientConnection) -> Bool {
        switch consume send {
        case .write(let message): outbox.append((connection, message))
        case .connect: connectsDue.append(connection)
        case .wait: break
        case .fail(let failure):
            failure?.run()
            return false
        }
        return true
    }

    /// Fails one outstanding call (cancellation); a late reply is then dropped.
    @usableFromInline
    func cancel(on connection: XDPClientConnection, sequenceID: Int32, _ error: RPCError) {
        connection.core.cancel(sequenceID, error)?.run()
    }

    // MARK: Input

    func deliver(_ bytes: UnsafeRawBufferPointer, on handle: TCPHandle, at now: NetInstant) -> Int {
        guard let connection = connections[handle] else { return 0 }
        return consume(bytes, on: connection)
    }

    private func consume(_ bytes: UnsafeRawBufferPointer, on connection: XDPClientConnection) -> Int {
        if connection.resetReason != nil { return bytes.count }
        if connection.output.isBlocked { return 0 }
        var input = MessageReader.Input(bytes)
        while true {
            switch connection.core.receive(&input) {
            case .needMore:
                return bytes.count
            case .reply(let complete, let result):
                engine.counters.messagesReceived += 1
                complete(result)  // decodes now, while the bytes are valid; the caller resumes later
            case .late(let sequenceID):
                engine.logger.debug("reply for no outstanding call (late, after a timeout?)", metadata: ["seqid": "\(sequenceID)"])
            case .reset(let reason):
                connection.resetReason = reason
                resetsDue.append(connection)
                return bytes.count
            }
        }
    }

    func handle(_ event: NetEvent, stack: inout NetStack, at now: NetInstant) {
        switch event {
        case .connected(let handle):
            guard let connection = connections[handle] else { return }
            for message in connection.core.connected() { outbox.append((connection, message)) }
            engine.counters.connected += 1
        case .readable(let handle):
            guard let connection = connections[handle] else { return }
            drain(connection, stack: &stack, at: now)
        case .writable(let handle):
            guard let connection = connections[handle] else { return }
            if !connection.output.writeHeld(to: handle, stack: &stack, at: now), connection.resetReason == nil {
                connection.resetReason = "a held request could not be encoded"
                resetsDue.append(connection)
            }
            if !connection.output.isBlocked { drain(connection, stack: &stack, at: now) }
        case .closed(let handle, let reason):
            guard let connection = connections.removeValue(forKey: handle) else { return }
            engine.counters.countClose(reason)
            guard connection.handle == handle else { return }
            connection.handle = nil
            connection.output.removeAll()
            let failures: [ClientConnection<OutgoingMessage>.Failure]
            if connection.core.isOpen {
                failures = connection.core.lost(connection.resetReason ?? "\(reason)")
            } else {
                failures = connection.core.connectFailed(Self.explain(reason, to: configuration.server, stack: stack, at: now)).failures
            }
            connection.resetReason = nil
            for failure in failures { failure.run() }
        case .accepted, .datagram:
            break
        }
    }

    private func drain(_ connection: XDPClientConnection, stack: inout NetStack, at now: NetInstant) {
        guard let handle = connection.handle else { return }
        while connection.resetReason == nil && !connection.output.isBlocked {
            let taken = (try? stack.read(from: handle, at: now) { bytes in self.consume(bytes, on: connection) }) ?? 0
            if taken == 0 { break }
        }
        if connection.resetReason == nil && stack.isAtEndOfStream(handle) {
            // The server closed: calls waiting on this connection fail; the next call reconnects.
            connection.handle = nil
            connection.output.removeAll()
            for failure in connection.core.lost("the server closed the connection") { failure.run() }
            try? stack.close(handle, at: now)
        }
    }

    // MARK: Output

    var hasOutput: Bool { !outbox.isEmpty || !connectsDue.isEmpty || !resetsDue.isEmpty }

    func flush(_ stack: inout NetStack, at now: NetInstant) {
        for connection in resetsDue {
            if let handle = connection.handle { try? stack.abort(handle, at: now) }
        }
        resetsDue.removeAll(keepingCapacity: true)
        for connection in connectsDue { open(connection, stack: &stack, at: now) }
        connectsDue.removeAll(keepingCapacity: true)
        guard !outbox.isEmpty else { return }
        swap(&outbox, &writing)
        for index in writing.indices {
            guard let (connection, message) = writing[index].take() else { continue }
            guard let handle = connection.handle, connection.resetReason == nil else { continue }
            let request: WireMessage
            let (sequenceID, name) = (message.sequenceID, message.name)
            do throws(ThriftError) {
                request = try WireMessage(consume message, protocol: configuration.protocolID, framing: configuration.framing)
            } catch {
                connection.core.cancel(sequenceID, RPCError(
                    .protocolError, "cannot encode the call to \(name): \(error)", requestWasNotSent: true))?.run()
                continue
            }
            switch connection.output.write(request, to: handle, stack: &stack, at: now) {
            case .sent: engine.counters.messagesSent += 1
            case .held: engine.counters.messagesSent += 1; engine.counters.messagesDeferred += 1
            case .failed:
                connection.core.cancel(sequenceID, RPCError(.internalError, "the call to \(name) could not be encoded",
                                                                    requestWasNotSent: true))?.run()
            }
        }
        writing.removeAll(keepingCapacity: true)
    }

    /// Why an active open failed, in the operator's terms: an unanswered SYN is told apart
    /// from a next hop (the gateway, for an off-link server) that never answered ARP.
    static func explain(_ reason: TCPCloseReason, to server: IPv4Address, stack: borrowing NetStack, at now: NetInstant) -> String {
        switch reason {
        case .refused:
            return "refused (RST): nothing listens on that port"
        case .timedOut:
            let route = stack.route(to: server)
            guard let nextHop = route.nextHop else {
                return "no route: \(server) is off-link and there is no gateway (--gateway, or a default route on the interface)"
            }
            guard stack.neighbour(of: nextHop, at: now) != nil else {
                let via = nextHop == server ? "\(server)" : "the gateway \(nextHop)"
                return "timed out: \(via) never answered ARP (is it up, on this link and subnet?)"
            }
            return "timed out: no answer to the SYN after its retries (server down, or a firewall drops it)"
        default:
            return "\(reason)"
        }
    }

    private func open(_ connection: XDPClientConnection, stack: inout NetStack, at now: NetInstant) {
        do throws(NetError) {
            let handle = try stack.connect(to: configuration.server, port: configuration.port, at: now)
            connection.handle = handle
            connections[handle] = connection
        } catch {
            let (failures, _) = connection.core.connectFailed("\(error)")
            for failure in failures { failure.run() }
        }
    }

    // MARK: Time and shutdown

    /// The engine asks every pass, so this is kept, not computed: a walk over every connection
    /// per pass cost a 10,000-connection client most of its core.
    var nextDeadline: NetInstant { earliestDeadline }

    /// Walks the connections only when a deadline may have passed (`earliestDeadline`), and
    /// learns the next one on the way.
    func expire(_ stack: inout NetStack, at now: NetInstant) {
        var next = NetInstant.distantFuture
        for connection in pool {
            for failure in connection.core.expire(at: now.streamTime) { failure.run() }
            if let deadline = connection.core.nextDeadline { next = min(next, NetInstant(streamTime: deadline)) }
        }
        earliestDeadline = next
    }

    func closeAll(_ stack: inout NetStack, at now: NetInstant) {
        for connection in pool {
            for failure in connection.core.close().failures { failure.run() }
            if let handle = connection.handle { try? stack.close(handle, at: now) }
        }
        outbox.removeAll()
        connectsDue.removeAll()
    }
}

/// One pooled connection: the stream core, its TCP handle when open, held-back request bytes.
@usableFromInline
final class XDPClientConnection: @unchecked Sendable {
    var core: ClientConnection<OutgoingMessage>
    var handle: TCPHandle?
    var output = HeldOutput()
    /// Set when the replies became unreadable; the connection is reset at the next output step.
    var resetReason: String?

    init(core: consuming ClientConnection<OutgoingMessage>) { self.core = core }
}
