import NIOCore
import NIOTLS

/// Behind a client connection's TLS handler: `completed` succeeds when the handshake does
/// and fails with why it did not, so a connection counts as open (and requests go out)
/// only once TLS is up, and a failed handshake is a failed connect: the calls waiting were
/// never sent.
final class TLSHandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    let completed: EventLoopPromise<Void>
    private var settled = false

    init(eventLoop: any EventLoop) { completed = eventLoop.makePromise() }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent, !settled {
            settled = true
            completed.succeed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !settled {
            settled = true
            completed.fail(TLSHandshakeFailure(description: "TLS handshake failed: \(TLSErrorDescription.describe(error))"))
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !settled {
            settled = true
            completed.fail(TLSHandshakeFailure(description: "the server closed the connection during the TLS handshake (is it serving TLS?)"))
        }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if !settled {
            settled = true
            completed.fail(TLSHandshakeFailure(description: "the connection closed during the TLS handshake"))
        }
    }
}

/// Why a client's TLS handshake did not complete.
struct TLSHandshakeFailure: Error, CustomStringConvertible {
    let description: String
}
