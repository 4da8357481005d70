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
    private var framer: MessageFramer
    private var cumulation: ByteBuffer?
    private var sink: ConnectionSink?
    private var state: ConnectionState?
    private var readTimeout: Scheduled<Void>?
    private var lastReadAt = NIODeadline.now()

    init(dispatcher: ServerDispatcher, configuration: PosixServerTransport.Configuration) {
        self.dispatcher = dispatcher
        self.configuration = configuration
        self.framer = MessageFramer(framing: configuration.framing, protocol: configuration.protocolID, limits: configuration.limits)
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
        cumulation = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        lastReadAt = .now()
        guard let sink, let state else { return }
        sink.isInRead = true
        if cumulation == nil {
            process(&incoming, context: context, sink: sink, state: state)
            if incoming.readableBytes > 0 { cumulation = incoming }
        } else {
            cumulation!.writeBuffer(&incoming)
            process(&cumulation!, context: context, sink: sink, state: state)
            if cumulation!.readableBytes == 0 {
                cumulation = nil
            } else if cumulation!.readerIndex > cumulation!.capacity / 2 {
                cumulation!.discardReadBytes()
            }
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

    /// Dispatches every complete message in `buffer`, consuming it.
    private func process(_ buffer: inout ByteBuffer, context: ChannelHandlerContext, sink: ConnectionSink, state: ConnectionState) {
        while buffer.readableBytes > 0 && context.channel.isActive {
            var expectedTotal: Int?
            let step: Result<MessageFramer.Message?, ThriftError> = buffer.withUnsafeReadableBytes { bytes in
                do throws(ThriftError) {
                    guard let message = try framer.next(in: bytes, expectedTotal: &expectedTotal) else { return .success(nil) }
                    sink.framing = framer.framing ?? .framed
                    let outcome = dispatcher.dispatch(
                        UnsafeRawBufferPointer(rebasing: bytes[message.range]), protocol: message.protocolID,
                        connection: state, sink: sink, executor: sink.executor)
                    if case .closeConnection(let reason) = outcome {
                        return .failure(ThriftError(.invalidFrame, offset: 0, detail: reason))
                    }
                    return .success(message)
                } catch {
                    return .failure(error)
                }
            }
            switch step {
            case .success(let message?):
                buffer.moveReaderIndex(forwardBy: message.consumed)
            case .success(nil):
                // Incomplete: make room for the whole frame once, rather than growing step by step.
                if let expectedTotal, expectedTotal > buffer.readableBytes, buffer.capacity - buffer.readerIndex < expectedTotal {
                    buffer.reserveCapacity(minimumWritableBytes: expectedTotal - buffer.readableBytes)
                }
                return
            case .failure(let error):
                dispatcher.logger.warning("closing connection: malformed or oversized input", metadata: [
                    "peer": "\(state.remotePeer)", "reason": "\(error)",
                ])
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                context.close(promise: nil)
                return
            }
        }
    }

    /// A connection holding part of a message must keep sending: one silent
    /// for `readTimeout` is closed, so a stalled or malicious peer cannot pin
    /// a buffer forever. Idle connections with nothing pending stay open.
    private func armReadTimeout(context: ChannelHandlerContext) {
        guard (cumulation?.readableBytes ?? 0) > 0 else {
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
            guard (handler.cumulation?.readableBytes ?? 0) > 0 else { return }
            let silentFor = NIODeadline.now() - handler.lastReadAt
            if silentFor >= handler.configuration.readTimeout {
                handler.dispatcher.logger.warning("closing connection: incomplete message and no data", metadata: [
                    "peer": "\(handler.state?.remotePeer ?? .unknown)", "silentFor": "\(silentFor)",
                    "buffered": "\(handler.cumulation?.readableBytes ?? 0)",
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
