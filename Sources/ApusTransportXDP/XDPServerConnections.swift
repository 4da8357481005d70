import ApusNet
import ApusRPC
import ApusThrift
import Logging

/// One queue's server side: the connections accepted on its port, each a
/// `ServerConnection` stream core fed from ApusNet, with replies encoded
/// straight into the TCP send buffer.
final class XDPServerConnections: QueueApplication, @unchecked Sendable {
    unowned let engine: QueueEngine
    let dispatcher: ServerDispatcher
    let port: UInt16
    let configuration: ServerConnection.Configuration
    private var connections: [TCPHandle: XDPServerConnection] = [:]
    /// Replies from the dispatcher's sink, written at the next output step (optional: each is taken out of its slot).
    var outbox: [(XDPServerConnection, OutgoingMessage, ThriftProtocolID)?] = []
    private var writing: [(XDPServerConnection, OutgoingMessage, ThriftProtocolID)?] = []
    /// Connections with an action recorded while the stack was busy.
    private var actionsDue: [XDPServerConnection] = []
    /// Connections that were paused (too many replies owed) and may read again.
    private var resuming: [XDPServerConnection] = []
    private var nextScan = NetInstant.zero

    init(engine: QueueEngine, dispatcher: ServerDispatcher, port: UInt16, configuration: ServerConnection.Configuration) {
        self.engine = engine
        self.dispatcher = dispatcher
        self.port = port
        self.configuration = configuration
    }

    func start(_ stack: inout NetStack) {
        do throws(NetError) { try stack.listen(on: port, backlog: 4096) } catch {
            engine.logger.error("cannot listen", metadata: ["port": "\(port)", "error": "\(error)"])
        }
    }

    func stopAccepting(_ stack: inout NetStack) { stack.stopListening(on: port) }

    var openHandles: [TCPHandle] { Array(connections.keys) }

    /// The engine's frames per pass (replies leave after every 8 frames: see `QueueEngine.Options.receiveBatch`).
    var receiveBatch: Int { 8 }

    // MARK: Input

    func deliver(_ bytes: UnsafeRawBufferPointer, on handle: TCPHandle, at now: NetInstant) -> Int {
        // A connection not yet announced as accepted: ApusNet buffers, and `.accepted` reads it.
        guard let connection = connections[handle] else { return 0 }
        return consume(bytes, on: connection, at: now)
    }

    /// Reads messages from `bytes` and dispatches them; replies go to the outbox.
    private func consume(_ bytes: UnsafeRawBufferPointer, on connection: XDPServerConnection, at now: NetInstant) -> Int {
        if connection.action != nil || connection.core.isClosed { return bytes.count }  // going away: discard
        if connection.output.isBlocked { return 0 }
        var input = MessageReader.Input(bytes)
        while true {
            switch connection.core.receive(&input, at: now.streamTime) {
            case .needMore:
                return bytes.count
            case .paused:
                // Too many replies owed: the rest stays in ApusNet's buffer (the window closes)
                // and is read once replies go out.
                connection.paused = true
                return input.offset
            case .action(let action):
                record(action, on: connection)
                return bytes.count
            case .message(let message):
                engine.counters.messagesReceived += 1
                if message.wasReassembled { engine.counters.messagesReassembled += 1 }
                let outcome = dispatcher.dispatch(message.bytes, protocol: message.protocolID, connection: connection.state,
                                                  sink: connection.sink, executor: engine.executor, header: message.header)
                if let action = connection.core.dispatched(outcome) {
                    record(action, on: connection)
                    return bytes.count
                }
                // Replies waiting for send-buffer space: read no more (the window closes instead).
                if connection.output.isBlocked { return input.offset }
            }
        }
    }

    private func record(_ action: ServerConnection.Action, on connection: XDPServerConnection) {
        guard connection.action == nil else { return }
        connection.action = action
        actionsDue.append(connection)
    }

    func handle(_ event: NetEvent, stack: inout NetStack, at now: NetInstant) {
        switch event {
        case .accepted(let handle, _):
            let tuple = stack.endpoints(of: handle)
            let state = ConnectionState(
                remotePeer: tuple.map { PeerAddress("\($0.remoteAddress):\($0.remotePort)") } ?? .unknown,
                localPeer: tuple.map { PeerAddress("\($0.localAddress):\($0.localPort)") } ?? .unknown)
            let connection = XDPServerConnection(handle: handle, state: state, core: ServerConnection(configuration: configuration, at: now.streamTime),
                                                 server: self)
            connections[handle] = connection
            engine.counters.accepted += 1
            drain(connection, stack: &stack, at: now)
        case .readable(let handle):
            if let connection = connections[handle] { drain(connection, stack: &stack, at: now) }
        case .writable(let handle):
            guard let connection = connections[handle] else { return }
            guard connection.output.writeHeld(to: handle, stack: &stack, at: now) else {
                record(.reset(reason: "a held reply could not be encoded"), on: connection)
                applyActions(&stack, at: now)
                return
            }
            if !connection.output.isBlocked { drain(connection, stack: &stack, at: now) }
        case .closed(let handle, let reason):
            guard let connection = connections.removeValue(forKey: handle) else { return }
            connection.close()
            engine.counters.countClose(reason)
        case .connected, .datagram:
            break
        }
    }

    /// Reads what ApusNet buffered (data that came before the connection was accepted, after a
    /// hole, or while it was blocked) and notices the peer's FIN.
    private func drain(_ connection: XDPServerConnection, stack: inout NetStack, at now: NetInstant) {
        let handle = connection.handle
        while connection.action == nil && !connection.output.isBlocked && !connection.core.isClosed && !connection.paused {
            let taken = (try? stack.read(from: handle, at: now) { bytes in self.consume(bytes, on: connection, at: now) }) ?? 0
            if taken == 0 { break }
        }
        if !connection.peerFinished && stack.isAtEndOfStream(handle) {
            connection.peerFinished = true
            if let action = connection.core.peerFinished(at: now.streamTime) {
                record(action, on: connection)
            } else if connection.core.hasBufferedInput {
                _ = consume(UnsafeRawBufferPointer(start: nil, count: 0), on: connection, at: now)  // drops a cut-off message
            }
        }
        applyActions(&stack, at: now)
    }

    // MARK: Output

    var hasOutput: Bool { !outbox.isEmpty || !actionsDue.isEmpty }

    func flush(_ stack: inout NetStack, at now: NetInstant) {
        applyActions(&stack, at: now)
        guard !outbox.isEmpty else { return }
        swap(&outbox, &writing)
        // Each reply taken out of its slot (a move): iterating copied it (its connection, its
        // body's references) and released the copies after.
        for index in writing.indices {
            guard let (connection, message, protocolID) = writing[index].take() else { continue }
            guard connection.action == nil, !connection.core.isClosed else { continue }
            let (reply, then) = connection.core.prepareReply(consume message, protocol: protocolID, at: now.streamTime)
            if connection.paused && !connection.core.isPaused {
                connection.paused = false
                resuming.append(connection)
            }
            if let reply = consume reply {
                switch connection.output.write(reply, to: connection.handle, stack: &stack, at: now) {
                case .sent: engine.counters.messagesSent += 1
                case .held: engine.counters.messagesSent += 1; engine.counters.messagesDeferred += 1
                case .failed: record(.reset(reason: "reply to \(reply.message.name) could not be encoded"), on: connection)
                }
            }
            if let then { record(then, on: connection) }
        }
        writing.removeAll(keepingCapacity: true)
        applyActions(&stack, at: now)
        if !resuming.isEmpty {
            for connection in resuming where connection.action == nil && !connection.core.isClosed {
                drain(connection, stack: &stack, at: now)
            }
            resuming.removeAll(keepingCapacity: true)
        }
    }

    private func applyActions(_ stack: inout NetStack, at now: NetInstant) {
        guard !actionsDue.isEmpty else { return }
        for connection in actionsDue {
            guard let action = connection.action else { continue }
            connection.action = nil
            dispatcher.log(action, peer: connection.state.remotePeer)
            switch action {
            case .reset:
                engine.counters.connectionsFailed += 1
                connection.core.closed()
                connection.output.removeAll()
                try? stack.abort(connection.handle, at: now)
            case .close:
                try? stack.close(connection.handle, at: now)
            }
        }
        actionsDue.removeAll(keepingCapacity: true)
    }

    // MARK: Time and shutdown

    var nextDeadline: NetInstant { nextScan }

    func expire(_ stack: inout NetStack, at now: NetInstant) {
        nextScan = now + .milliseconds(100)
        let time = now.streamTime
        for connection in connections.values {
            guard let deadline = connection.core.nextDeadline, deadline <= time,
                  let action = connection.core.expire(at: time) else { continue }
            record(action, on: connection)
        }
        applyActions(&stack, at: now)
    }

    func closeAll(_ stack: inout NetStack, at now: NetInstant) {
        stack.stopListening(on: port)
        for connection in connections.values {
            if let action = connection.core.beginDraining(at: now.streamTime) { record(action, on: connection) }
        }
        applyActions(&stack, at: now)
    }
}

/// One accepted connection: the stream core, its TCP handle, held-back reply bytes.
final class XDPServerConnection: @unchecked Sendable {
    let handle: TCPHandle
    let state: ConnectionState
    var core: ServerConnection
    var output = HeldOutput()
    /// What to do once the stack is free (recorded while it was busy).
    var action: ServerConnection.Action?
    var peerFinished = false
    /// Reading stopped because too many replies are owed (`ServerConnection.isPaused`).
    var paused = false
    /// Where the dispatcher sends this connection's replies; dropped at close (breaks the cycle).
    private(set) var sink: XDPResponseSink!

    init(handle: TCPHandle, state: ConnectionState, core: consuming ServerConnection, server: XDPServerConnections) {
        self.handle = handle
        self.state = state
        self.core = core
        self.sink = XDPResponseSink(server: server, connection: self)
    }

    func close() {
        state.markClosed()
        core.closed()
        output.removeAll()
        action = nil
        sink = nil
    }
}

/// Where the dispatcher delivers one server connection's replies. Replies
/// made on the queue's thread (all of them, unless a handler moved itself
/// elsewhere) are queued for the loop's output step without a lock.
final class XDPResponseSink: ResponseSink, @unchecked Sendable {
    // Strong: a call may outlive its connection; the connection drops its sink when it closes.
    let server: XDPServerConnections
    let connection: XDPServerConnection

    init(server: XDPServerConnections, connection: XDPServerConnection) {
        self.server = server
        self.connection = connection
    }

    func send(_ message: consuming OutgoingMessage, protocol protocolID: ThriftProtocolID) {
        if server.engine.executor.isCurrent {
            server.outbox.append((connection, consume message, protocolID))
        } else {
            let (server, connection, message) = (self.server, self.connection, message)
            server.engine.executor.execute { server.outbox.append((connection, message, protocolID)) }
        }
    }
}
