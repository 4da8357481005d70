import ApusRPC
import ApusThrift
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// One connection of a client pool, with any number of calls outstanding
/// (pipelining): each call gets a sequence id, its reply is matched by it,
/// in whatever order replies come.
///
/// All mutable state is confined to `eventLoop`; calls from other threads
/// hop there once. Connecting is lazy: the first call connects, calls made
/// meanwhile queue; when the connection is lost every outstanding call fails
/// with `.unavailable` and the next call reconnects.
final class ClientConnection: @unchecked Sendable {
    typealias Completion = @Sendable (Result<IncomingMessage, RPCError>) -> Void

    struct Pending {
        let method: MethodDescriptor
        let complete: Completion
        var timeout: Scheduled<Void>?
    }

    private enum State {
        case idle
        case connecting(queued: [(ByteBuffer, EventLoopPromise<Void>?)])
        case ready(any Channel)
    }

    let eventLoop: any EventLoop
    let host: String
    let port: Int
    let configuration: PosixClientTransport.Configuration
    let logger: Logger
    private let sequenceIDs = Atomic<Int32>(0)
    // Event-loop confined:
    private var state = State.idle
    private var pending: [Int32: Pending] = [:]
    private var flushScheduled = false

    init(eventLoop: any EventLoop, host: String, port: Int, configuration: PosixClientTransport.Configuration, logger: Logger) {
        self.eventLoop = eventLoop
        self.host = host
        self.port = port
        self.configuration = configuration
        self.logger = logger
    }

    var endpoint: String { "\(host):\(port)" }

    func nextSequenceID() -> Int32 {
        sequenceIDs.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// Encodes a call into a new buffer (on the caller's thread).
    func encode(_ request: some ThriftMessageBody, method: MethodDescriptor, type: MessageType, sequenceID: Int32) throws -> ByteBuffer {
        let name = configuration.multiplexed ? method.multiplexedName : method.method
        let message = OutgoingMessage(name: name, type: type, sequenceID: sequenceID, body: request)
        do throws(ThriftError) {
            return try ByteBufferAllocator().thriftMessage(message, protocol: configuration.protocolID, framing: configuration.framing)
        } catch {
            throw RPCError(.protocolError, "cannot encode the call to \(method): \(error)", cause: error, requestWasNotSent: true)
        }
    }

    // MARK: On the event loop

    /// Registers a call awaiting its reply and writes it.
    func start(_ buffer: ByteBuffer, sequenceID: Int32, method: MethodDescriptor, timeout: Duration?, complete: @escaping Completion) {
        eventLoop.preconditionInEventLoop()
        var entry = Pending(method: method, complete: complete)
        if let timeout {
            entry.timeout = eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000
                                                                   + timeout.components.attoseconds / 1_000_000_000)) {
                self.fail(sequenceID, RPCError(.deadlineExceeded, "\(method) got no reply from \(self.endpoint) within \(timeout)"))
            }
        }
        pending[sequenceID] = entry
        write(buffer, promise: nil)
    }

    /// Fails one outstanding call (timeout, cancellation); a late reply is then dropped.
    func fail(_ sequenceID: Int32, _ error: RPCError) {
        eventLoop.preconditionInEventLoop()
        guard let entry = pending.removeValue(forKey: sequenceID) else { return }
        entry.timeout?.cancel()
        entry.complete(.failure(error))
    }

    func write(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>?) {
        switch state {
        case .ready(let channel):
            channel.write(buffer, promise: promise)
            scheduleFlush(channel)
        case .connecting(var queued):
            queued.append((buffer, promise))
            state = .connecting(queued: queued)
        case .idle:
            state = .connecting(queued: [(buffer, promise)])
            connect()
        }
    }

    /// Calls made in the same event-loop tick share one flush (one syscall).
    private func scheduleFlush(_ channel: any Channel) {
        guard !flushScheduled else { return }
        flushScheduled = true
        eventLoop.execute {
            self.flushScheduled = false
            channel.flush()
        }
    }

    private func connect() {
        let bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(configuration.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ClientConnectionHandler(connection: self))
                }
            }
        bootstrap.connect(host: host, port: port).hop(to: eventLoop).whenComplete { result in
            guard case .connecting(let queued) = self.state else { return }
            switch result {
            case .success(let channel):
                self.state = .ready(channel)
                for (buffer, promise) in queued { channel.write(buffer, promise: promise) }
                channel.flush()
            case .failure(let error):
                self.state = .idle
                let failure = RPCError(.unavailable, "cannot connect to \(self.endpoint): \(error)", cause: error, requestWasNotSent: true)
                for (_, promise) in queued { promise?.fail(failure) }
                self.failAll(failure)
            }
        }
    }

    /// A reply arrived (bytes valid during this call only).
    func receive(_ message: IncomingMessage) {
        let sequenceID = message.header.sequenceID
        guard let entry = pending.removeValue(forKey: sequenceID) else {
            logger.debug("reply for no outstanding call (late, after a timeout?)", metadata: [
                "seqid": "\(sequenceID)", "endpoint": "\(endpoint)",
            ])
            return
        }
        entry.timeout?.cancel()
        let name = message.header.name
        guard name == entry.method.method || name == entry.method.multiplexedName else {
            entry.complete(.failure(RPCError(.wrongMethodName, "reply to \(entry.method) is named '\(name.string)'")))
            return
        }
        entry.complete(.success(message))
    }

    /// The connection is gone: every outstanding call fails; the next call reconnects.
    func connectionLost(_ channel: any Channel, reason: String) {
        if case .ready(let current) = state, current === channel { state = .idle }
        failAll(RPCError(.unavailable, "connection to \(endpoint) lost: \(reason)"))
    }

    private func failAll(_ error: RPCError) {
        let entries = pending
        pending = [:]
        for (_, entry) in entries {
            entry.timeout?.cancel()
            entry.complete(.failure(error))
        }
    }

    func close() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            guard case .ready(let channel) = self.state else { return self.eventLoop.makeSucceededVoidFuture() }
            self.state = .idle
            return channel.close()
        }
    }
}

/// Reads replies for a `ClientConnection`.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let connection: ClientConnection
    private var inbound: InboundMessages
    private var failure: String?

    init(connection: ClientConnection) {
        self.connection = connection
        self.inbound = InboundMessages(MessageFramer(framing: connection.configuration.framing,
                                                     protocol: connection.configuration.protocolID,
                                                     limits: connection.configuration.limits))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        let (connection, limits) = (self.connection, inbound.limits)
        let error = inbound.receive(&incoming) { (bytes, protocolID, _) throws(ThriftError) in
            connection.receive(try IncomingMessage(parsing: bytes, protocol: protocolID, limits: limits))
        }
        if let error {
            failure = "malformed reply: \(error)"
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.connectionLost(context.channel, reason: failure ?? "closed by the server or the network")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failure = "\(error)"
        context.close(promise: nil)
    }
}
