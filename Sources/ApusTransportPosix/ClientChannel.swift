import ApusRPC
import ApusThrift
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One connection of a client pool on kernel sockets: a thin adapter around
/// the `ClientConnection` stream core (sequence ids, calls waiting for
/// replies, reply matching, deadlines, requests held while connecting).
///
/// All mutable state is confined to `eventLoop`; calls from other threads
/// hop there once. Connecting is lazy: the first call connects, calls made
/// meanwhile wait; when the connection is lost every outstanding call fails
/// with `.unavailable` and the next call reconnects. After `close()` every
/// call fails at once.
final class ClientChannel: @unchecked Sendable {
    /// A request not yet written, and who waits to hear that it was (oneway calls).
    typealias Request = (buffer: ByteBuffer, written: EventLoopPromise<Void>?)
    typealias Completion = ClientConnection<Request>.Completion

    let eventLoop: any EventLoop
    let host: String
    let port: Int
    let configuration: PosixClientTransport.Configuration
    let logger: Logger
    /// Sequence ids are taken on the caller's thread, before the hop to the event loop, so a
    /// cancellation knows which call to fail without a per-call box.
    private let sequenceIDs = Atomic<Int32>(0)
    // Event-loop confined:
    private var core: ClientConnection<Request>
    private var channel: (any Channel)?
    private var flushScheduled = false
    private var timer: Scheduled<Void>?
    private var timerDeadline: Duration?
    /// The TLS context of `configuration.tls`, or why it could not be made (every connect fails with that).
    private let tls: Result<NIOSSLContext, any Error>?

    init(eventLoop: any EventLoop, host: String, port: Int, configuration: PosixClientTransport.Configuration, logger: Logger) {
        self.eventLoop = eventLoop
        self.host = host
        self.port = port
        self.configuration = configuration
        self.logger = logger
        self.tls = configuration.tls.map { configuration in Result { try NIOSSLContext(configuration: configuration) } }
        self.core = ClientConnection(configuration: .init(
            framing: configuration.header != nil ? .framed : configuration.framing, protocol: configuration.protocolID, limits: configuration.limits, endpoint: "\(host):\(port)"))
    }

    var endpoint: String { "\(host):\(port)" }

    // MARK: On the event loop

    /// A fresh sequence id (any thread).
    func nextSequenceID() -> Int32 {
        sequenceIDs.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// Registers an encoded call and writes it (or connects first).
    func startCall(_ buffer: ByteBuffer, sequenceID: Int32, method: MethodDescriptor, timeout: Duration?,
                   responseMetadata: ResponseMetadata? = nil, complete: @escaping Completion) {
        eventLoop.preconditionInEventLoop()
        let send = core.startCall((buffer, nil), sequenceID: sequenceID, method: method, deadline: timeout.map { .now + $0 },
                                  responseMetadata: responseMetadata, complete: complete)
        apply(send)
        armTimer()
    }

    /// Encodes and writes a oneway request; `written` completes once it is written.
    func startOneway(_ request: some ThriftMessageBody, method: MethodDescriptor, written: EventLoopPromise<Void>) {
        eventLoop.preconditionInEventLoop()
        do {
            let buffer = try encode(request, method: method, type: .oneway, sequenceID: nextSequenceID())
            let send = core.startOneway((buffer, written))
            if case .fail = send {
                written.fail(RPCError(.unavailable, "oneway \(method): the client is closed", requestWasNotSent: true))
                return
            }
            apply(send)
        } catch {
            written.fail(error)
        }
    }

    /// The request as bytes, on the caller's thread (off the event loop when the caller is).
    func encode(_ request: some ThriftMessageBody, method: MethodDescriptor, type: MessageType, sequenceID: Int32,
                options: CallOptions = .defaults) throws(RPCError) -> ByteBuffer {
        let name = configuration.multiplexed ? method.multiplexedName : method.method
        var message = OutgoingMessage(name: name, type: type, sequenceID: sequenceID, body: request)
        if let format = configuration.header {
            message.header = options.header(format, protocol: configuration.protocolID, sequenceID: sequenceID, method: method.method)
        }
        do throws(ThriftError) {
            let wire = try WireMessage(message, protocol: configuration.protocolID, framing: configuration.framing)
            var buffer = ByteBufferAllocator().buffer(capacity: wire.size)
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: wire.size) { wire.write(into: $0) }
            return buffer
        } catch {
            throw RPCError(.protocolError, "cannot encode the call to \(method): \(error)", cause: error, requestWasNotSent: true)
        }
    }

    private func apply(_ send: ClientConnection<Request>.Send) {
        switch send {
        case .write(let request):
            guard let channel else { return }
            channel.write(request.buffer, promise: request.written)
            scheduleFlush(channel)
        case .connect:
            connect()
        case .wait:
            break
        case .fail(let failure):
            failure?.run()
        }
    }

    /// Fails one outstanding call (timeout, cancellation); a late reply is then dropped.
    func cancel(_ sequenceID: Int32, _ error: RPCError) {
        eventLoop.preconditionInEventLoop()
        core.cancel(sequenceID, error)?.run()
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
        let tlsContext: NIOSSLContext?
        switch tls {
        case .failure(let error)?:
            let (failures, dropped) = core.connectFailed("its TLS configuration is unusable: \(error)")
            let failure = RPCError(.unavailable, "cannot connect to \(endpoint): TLS: \(error)", cause: error, requestWasNotSent: true)
            for request in dropped { request.written?.fail(failure) }
            for failure in failures { failure.run() }
            return
        case .success(let context)?: tlsContext = context
        case nil: tlsContext = nil
        }
        // SNI and hostname checks take a name; for an IP address the certificate is checked against it.
        let serverName = configuration.tlsServerName ?? (host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? nil : host)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(configuration.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: serverName))
                        try channel.pipeline.syncOperations.addHandler(TLSHandshakeWaiter(eventLoop: channel.eventLoop))
                    }
                    try channel.pipeline.syncOperations.addHandler(ClientChannelHandler(connection: self))
                }
            }
        let connected = bootstrap.connect(host: host, port: port).flatMap { channel -> EventLoopFuture<any Channel> in
            guard tlsContext != nil else { return channel.eventLoop.makeSucceededFuture(channel) }
            return channel.pipeline.handler(type: TLSHandshakeWaiter.self).flatMap { $0.completed.futureResult }.map { channel }
                .flatMapErrorThrowing { error in
                    channel.close(promise: nil)
                    throw error
                }
        }
        connected.hop(to: eventLoop).whenComplete { result in
            switch result {
            case .success(let channel):
                guard !self.core.isClosed else {
                    channel.close(promise: nil)
                    return
                }
                self.channel = channel
                for request in self.core.connected() { channel.write(request.buffer, promise: request.written) }
                channel.flush()
            case .failure(let error):
                let reason = (error as? TLSHandshakeFailure)?.description ?? SocketErrorDescription.connecting(error)
                let (failures, dropped) = self.core.connectFailed(reason)
                let failure = RPCError(.unavailable, "cannot connect to \(self.endpoint): \(reason)", cause: error, requestWasNotSent: true)
                for request in dropped { request.written?.fail(failure) }
                for failure in failures { failure.run() }
            }
        }
    }

    /// Replies arrived (bytes valid during this call only).
    fileprivate func read(_ bytes: UnsafeRawBufferPointer) -> String? {
        var input = MessageReader.Input(bytes)
        while true {
            switch core.receive(&input) {
            case .needMore:
                return nil
            case .reply(let complete, let result):
                complete(result)  // decodes now; the caller resumes on its own executor later
            case .late(let sequenceID):
                logger.debug("reply for no outstanding call (late, after a timeout?)", metadata: [
                    "seqid": "\(sequenceID)", "endpoint": "\(endpoint)",
                ])
            case .reset(let reason):
                return reason
            }
        }
    }

    /// The connection is gone: every outstanding call fails; the next call reconnects.
    fileprivate func connectionLost(_ channel: any Channel, reason: String) {
        guard self.channel === channel else { return }
        self.channel = nil
        for failure in core.lost(reason) { failure.run() }
    }

    /// Keeps one scheduled task at the earliest call deadline (moved only when that gets earlier).
    private func armTimer() {
        guard let deadline = core.nextDeadline else { return }
        if let armed = timerDeadline, armed <= deadline, timer != nil { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = eventLoop.scheduleTask(in: .nanoseconds(max((deadline - .now).inNanoseconds, 0))) {
            self.timer = nil
            self.timerDeadline = nil
            for failure in self.core.expire(at: .now) { failure.run() }
            self.armTimer()
        }
    }

    /// Fails every outstanding and later call and closes the connection.
    func close() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            let (failures, dropped) = self.core.close()
            for request in dropped {
                request.written?.fail(RPCError(.unavailable, "the client to \(self.endpoint) is closed", requestWasNotSent: true))
            }
            for failure in failures { failure.run() }
            self.timer?.cancel()
            guard let channel = self.channel else { return self.eventLoop.makeSucceededVoidFuture() }
            self.channel = nil
            return channel.close()
        }
    }
}

/// Reads replies for a `ClientChannel`.
final class ClientChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let connection: ClientChannel
    private var failure: String?

    init(connection: ClientChannel) { self.connection = connection }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let incoming = unwrapInboundIn(data)
        guard failure == nil else { return }
        if let reason = incoming.withUnsafeReadableBytes({ connection.read($0) }) {
            failure = reason
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.connectionLost(context.channel, reason: failure ?? "closed by the server or the network")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failure = TLSErrorDescription.reason(of: error) != nil ? TLSErrorDescription.describe(error) : "\(error)"
        context.close(promise: nil)
    }
}
