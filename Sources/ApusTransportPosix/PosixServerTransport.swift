import ApusRPC
import ApusThrift
import NIOCore
import NIOPosix
import Synchronization

/// Serves Thrift over kernel TCP with SwiftNIO: the fallback data path, and
/// the one every machine has. Framed or buffered, binary or compact, each
/// configured or sniffed per connection.
public final class PosixServerTransport: ServerTransport {
    public struct Configuration: Sendable {
        /// nil: sniff per connection (see `MessageFramer`).
        public var framing: ThriftFraming?
        /// nil: sniff per message.
        public var protocolID: ThriftProtocolID?
        /// `maxFrameSize` caps frames and (for unframed streams) messages, before buffering.
        public var limits: ThriftLimits
        /// A message in progress must be complete this long after its first byte, plus a second
        /// per `minimumReadRate` bytes received; else the connection is reset (slowloris, stalls).
        public var readTimeout: Duration
        /// Bytes per second a message in progress must keep arriving at (0: no extension).
        public var minimumReadRate: Int
        /// A connection with nothing in progress for this long is closed; nil: never.
        public var idleTimeout: Duration?
        public var backlog: Int32

        public init(
            framing: ThriftFraming? = nil, protocol protocolID: ThriftProtocolID? = nil, limits: ThriftLimits = .default,
            readTimeout: Duration = .seconds(10), minimumReadRate: Int = 1024, idleTimeout: Duration? = .seconds(600), backlog: Int32 = 256
        ) {
            self.framing = framing
            self.protocolID = protocolID
            self.limits = limits
            self.readTimeout = readTimeout
            self.minimumReadRate = minimumReadRate
            self.idleTimeout = idleTimeout
            self.backlog = backlog
        }

        var connection: ServerConnection.Configuration {
            ServerConnection.Configuration(framing: framing, protocol: protocolID, limits: limits,
                                           readTimeout: readTimeout, minimumReadRate: minimumReadRate, idleTimeout: idleTimeout)
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
                    try channel.pipeline.syncOperations.addHandler(
                        ServerConnectionHandler(dispatcher: dispatcher, configuration: connection))
                }
            }
        let server: any Channel
        do {
            server = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw RPCError(.unavailable, "cannot listen on \(host):\(port): \(error)", cause: error)
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
