import ApusRPC
import ApusThrift
import Logging
import NIOCore

/// One server connection: cuts the byte stream into messages, hands each to
/// the dispatcher while its bytes are still in the read buffer (zero copy
/// for messages that arrived whole), and writes replies.
///
/// The first reply produced while a read is processed goes out at once; later
/// ones (pipelined calls answered inline) are flushed together at
/// `channelReadComplete`, so a burst costs two writes, not one per call. Sending
/// the first at once keeps a pipelining client busy while the rest are
/// answered; holding every reply to the end of the read put client and server
/// in lock step and halved QPS on one connection (measured: 20k vs 39k QPS),
/// while flushing every reply cost 47% more CPU per call at 16 connections.
final class ServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let dispatcher: ServerDispatcher
    private let configuration: PosixServerTransport.Configuration
    private var inbound: InboundMessages
    private var sink: ConnectionSink?
    private var state: ConnectionState?
    private var readTimeout: Scheduled<Void>?
    private var lastReadAt = NIODeadline.now()

    init(dispatcher: ServerDispatcher, configuration: PosixServerTransport.Configuration) {
        self.dispatcher = dispatcher
        self.configuration = configuration
        self.inbound = InboundMessages(MessageFramer(framing: configuration.framing, protocol: configuration.protocolID, limits: configuration.limits))
    }

    func channelActive(context: ChannelHandlerContext) {
        let state = ConnectionState(
            remotePeer: context.channel.remoteAddress?.peerAddress ?? .unknown,
            localPeer: context.channel.localAddress?.peerAddress ?? .unknown)
        self.state = state
        self.sink = ConnectionSink(channel: context.channel, executor: EventLoopTaskExecutor(context.eventLoop), logger: dispatcher.logger)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        state?.markClosed()
        readTimeout?.cancel()
        inbound.reset()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        lastReadAt = .now()
        guard let sink, let state else { return }
        sink.isInRead = true
        let dispatcher = self.dispatcher
        let channel = context.channel
        let failure = inbound.receive(&incoming, isOpen: { channel.isActive }) { (bytes, protocolID, framing) throws(ThriftError) in
            sink.framing = framing
            let outcome = dispatcher.dispatch(bytes, protocol: protocolID, connection: state, sink: sink, executor: sink.executor)
            if case .closeConnection(let reason) = outcome { throw ThriftError(.invalidFrame, offset: 0, detail: reason) }
        }
        if let failure {
            dispatcher.logger.warning("closing connection: malformed or oversized input", metadata: [
                "peer": "\(state.remotePeer)", "reason": "\(failure)",
            ])
            context.close(promise: nil)
        }
        armReadTimeout(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        sink?.isInRead = false
        if sink?.needsFlush == true {
            sink?.needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        dispatcher.logger.debug("connection error", metadata: ["peer": "\(state?.remotePeer ?? .unknown)", "error": "\(error)"])
        context.close(promise: nil)
    }

    /// A connection holding part of a message must keep sending: one silent
    /// for `readTimeout` is closed, so a stalled or malicious peer cannot pin
    /// a buffer forever. Idle connections with nothing pending stay open.
    private func armReadTimeout(context: ChannelHandlerContext) {
        guard inbound.pendingBytes > 0 else {
            readTimeout?.cancel()
            readTimeout = nil
            return
        }
        guard readTimeout == nil else { return }
        scheduleReadTimeout(context: context, in: configuration.readTimeout)
    }

    private func scheduleReadTimeout(context: ChannelHandlerContext, in delay: TimeAmount) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        readTimeout = context.eventLoop.scheduleTask(in: delay) {
            let (handler, context) = loopBound.value
            handler.readTimeout = nil
            guard handler.inbound.pendingBytes > 0 else { return }
            let silentFor = NIODeadline.now() - handler.lastReadAt
            if silentFor >= handler.configuration.readTimeout {
                handler.dispatcher.logger.warning("closing connection: incomplete message and no data", metadata: [
                    "peer": "\(handler.state?.remotePeer ?? .unknown)", "silentFor": "\(silentFor)",
                    "buffered": "\(handler.inbound.pendingBytes)",
                ])
                context.close(promise: nil)
            } else {
                handler.scheduleReadTimeout(context: context, in: handler.configuration.readTimeout - silentFor)
            }
        }
    }
}

/// Where the dispatcher sends one connection's replies. Replies arrive on
/// the connection's event loop (tasks prefer its executor) or, rarely,
/// elsewhere; either way they are encoded straight into a NIO buffer.
final class ConnectionSink: ResponseSink, @unchecked Sendable {
    let channel: any Channel
    let executor: EventLoopTaskExecutor
    let logger: Logger
    // Event-loop confined:
    var framing: ThriftFraming = .framed
    var isInRead = false {
        didSet { repliesInRead = 0 }
    }
    var repliesInRead = 0
    var needsFlush = false

    init(channel: any Channel, executor: EventLoopTaskExecutor, logger: Logger) {
        self.channel = channel
        self.executor = executor
        self.logger = logger
    }

    func send(_ message: OutgoingMessage, protocol protocolID: ThriftProtocolID) {
        guard channel.eventLoop.inEventLoop else {
            channel.eventLoop.execute { self.send(message, protocol: protocolID) }
            return
        }
        let buffer: ByteBuffer
        do throws(ThriftError) {
            buffer = try channel.allocator.thriftMessage(message, protocol: protocolID, framing: framing)
        } catch {
            logger.error("reply could not be encoded", metadata: ["method": "\(message.name)", "error": "\(error)"])
            let failure = OutgoingMessage.exception(RPCError(.internalError, "reply could not be encoded: \(error.kind)"),
                                                    name: message.name, sequenceID: message.sequenceID)
            guard let fallback = try? channel.allocator.thriftMessage(failure, protocol: protocolID, framing: framing) else { return }
            buffer = fallback
        }
        if isInRead && repliesInRead > 0 {
            channel.write(buffer, promise: nil)
            needsFlush = true
        } else {
            channel.writeAndFlush(buffer, promise: nil)
        }
        if isInRead { repliesInRead += 1 }
    }
}
