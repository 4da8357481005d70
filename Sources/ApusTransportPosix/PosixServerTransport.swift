import ApusRPC
import ApusThrift
import NIOCore
import Logging
import NIOPosix
import NIOSSL
import Synchronization

/// Serves Thrift over kernel TCP with SwiftNIO: the fallback data path, and
/// the one every machine has. Framed or buffered, binary or compact, each
/// configured or sniffed per connection.
public final class PosixServerTransport: ServerTransport {
    public struct Configuration: Sendable {
        /// Framing, limits, timeouts and back pressure of each connection (as on AF_XDP).
        public var connection: ServerConnectionPolicy
        public var backlog: Int32
        /// Serve TLS (`TLSFiles.server(...)` builds one from PEM files); nil: plain TCP. Framing
        /// and protocol are sniffed behind it as without it.
        public var tls: TLSConfiguration?
        /// A TLS handshake not finished by then closes its connection (a stalled or idle peer).
        public var tlsHandshakeTimeout: TimeAmount

        public init(connection: ServerConnectionPolicy = ServerConnectionPolicy(), backlog: Int32 = 256,
                    tls: TLSConfiguration? = nil, tlsHandshakeTimeout: TimeAmount = .seconds(10)) {
            self.connection = connection
            self.backlog = backlog
            self.tls = tls
            self.tlsHandshakeTimeout = tlsHandshakeTimeout
        }
    }

    public let host: String
    public let port: Int
    public let configuration: Configuration
    let group: any EventLoopGroup
    private let channels = Mutex(Channels())

    private struct Channels {
        var server: (any Channel)?
        var children: [ObjectIdentifier: any Channel] = [:]
    }

    /// - Parameter group: the event loops serving connections; one per core
    ///   by default (`MultiThreadedEventLoopGroup.singleton`).
    public init(host: String, port: Int, configuration: Configuration = Configuration(),
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.group = group
    }

    public func listen(dispatcher: ServerDispatcher) async throws -> PeerAddress {
        let connection = self.configuration.connection
        let backlog = self.configuration.backlog
        let tlsContext: NIOSSLContext?
        do {
            tlsContext = try self.configuration.tls.map { try NIOSSLContext(configuration: $0) }
        } catch {
            throw RPCError(.unavailable, "cannot serve TLS on \(host):\(port): \(error)", cause: error)
        }
        let (handshakeTimeout, logger, limiter) = (self.configuration.tlsHandshakeTimeout, dispatcher.logger, SharedLogLimiter())
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // A client that half-closes still gets the replies it is owed (`ServerConnection.peerFinished`).
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [weak self] channel in
                self?.track(channel)
                return channel.eventLoop.makeCompletedFuture {
                    if let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext))
                        try channel.pipeline.syncOperations.addHandler(TLSHandshakeGuard(timeout: handshakeTimeout, logger: logger, limiter: limiter))
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        ServerConnectionHandler(dispatcher: dispatcher, configuration: connection))
                }
            }
        let server: any Channel
        do {
            server = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw RPCError(.unavailable, SocketErrorDescription.listening(on: host, port: port, error), cause: error)
        }
        channels.withLock { $0.server = server }
        return server.localAddress?.peerAddress ?? PeerAddress("\(host):\(port)")
    }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLock { $0.children[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.channels.withLock { $0.children.removeValue(forKey: id) }
        }
    }

    /// Open connections now.
    public var connectionCount: Int { channels.withLock { $0.children.count } }

    public func stopAccepting() async {
        let server = channels.withLock { state -> (any Channel)? in
            defer { state.server = nil }
            return state.server
        }
        try? await server?.close()
    }

    public func close() async {
        await stopAccepting()
        let children = channels.withLock { Array($0.children.values) }
        for child in children { try? await child.close() }
    }
}
