import ApusRPC
import Logging
import NIOCore
import NIOTLS
import Synchronization

/// One `LogLimiter` for all of a server's connections: a flood of bad handshakes costs a
/// log line a second per kind, each saying how many were left out.
final class SharedLogLimiter: Sendable {
    private let limiter = Mutex(LogLimiter())
    private let origin = ContinuousClock.now

    /// nil: leave the line out; otherwise the count of its kind left out since the last one.
    func admit(_ kind: String) -> Int? {
        let now = origin.duration(to: .now)
        return limiter.withLock { $0.admit(kind, at: now) }
    }
}

/// Sits behind a server connection's TLS handler: a handshake that fails (a plaintext
/// client, an untrusted or expired certificate, no client certificate where one is
/// required) or does not finish within `timeout` (a stalled peer) closes that
/// connection with a log line naming the peer and why; the server serves on.
final class TLSHandshakeGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny

    private let timeout: TimeAmount
    private let logger: Logger
    private let limiter: SharedLogLimiter
    private var deadline: Scheduled<Void>?
    private var done = false

    init(timeout: TimeAmount, logger: Logger, limiter: SharedLogLimiter) {
        self.timeout = timeout
        self.logger = logger
        self.limiter = limiter
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard deadline == nil, !done else { return }
        let peer = Self.peer(context)
        let (logger, timeout, limiter) = (logger, timeout, limiter)
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            guard let self, !self.done else { return }
            self.done = true
            if let left = limiter.admit("stalled") {
                logger.warning("TLS handshake did not finish in time; closing the connection", metadata: [
                    "peer": "\(peer)", "timeout": "\(timeout.nanoseconds / 1_000_000) ms", "similarLeftOut": "\(left)"])
            }
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            done = true
            deadline?.cancel()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done {
            done = true
            deadline?.cancel()
            let why = TLSErrorDescription.describe(error)
            if let left = limiter.admit(why) {
                logger.warning("TLS handshake failed; closing the connection", metadata: [
                    "peer": "\(Self.peer(context))", "why": "\(why)", "similarLeftOut": "\(left)"])
            }
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }

    private static func peer(_ context: ChannelHandlerContext) -> String {
        context.channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
    }
}
