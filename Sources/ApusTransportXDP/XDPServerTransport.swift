import ApusNet
import ApusRPC
import ApusThrift
import ApusXSK
import Logging
import Synchronization

/// Serves Thrift over Apus's own TCP on AF_XDP: one engine per NIC queue,
/// each on its own pinned thread, handlers on that queue's executor. The
/// same `RPCServer`, router and generated services as on kernel sockets.
public final class XDPServerTransport: ServerTransport {
    public struct Configuration: Sendable {
        public var placement: XDPPlacement
        public var port: UInt16
        /// Framing, limits, timeouts and back pressure of each connection (as on kernel sockets).
        public var connection: ServerConnectionPolicy
        public var engine: QueueEngine.Options

        public init(placement: XDPPlacement, port: UInt16, connection: ServerConnectionPolicy = ServerConnectionPolicy(),
                    engine: QueueEngine.Options = QueueEngine.Options()) {
            self.placement = placement
            self.port = port
            self.connection = connection
            self.engine = engine
        }
    }

    public let configuration: Configuration
    private let logger: Logger
    private let queues = Mutex<XDPQueueSet?>(nil)
    private let lastEngines = Mutex<[QueueEngine]>([])

    public init(configuration: Configuration, logger: Logger = Logger(label: "apus.xdp")) {
        self.configuration = configuration
        self.logger = logger
    }

    public func listen(dispatcher: ServerDispatcher) async throws -> PeerAddress {
        let configuration = self.configuration
        let logger = self.logger
        let connection = configuration.connection
        let set = try XDPQueueSet(configuration.placement) { (queue, network) throws(XSKError) in
            try QueueEngine(queue: queue, network: network, logger: logger, options: configuration.engine) { engine in
                XDPServerConnections(engine: engine, dispatcher: dispatcher, port: configuration.port, configuration: connection)
            }
        }
        queues.withLock { $0 = set }
        lastEngines.withLock { $0 = set.engines }
        do {
            try await set.start(ports: [configuration.port])
        } catch {
            await set.close()
            queues.withLock { $0 = nil }
            throw error
        }
        return PeerAddress("\(configuration.placement.address):\(configuration.port)")
    }

    /// The queues' engines (statistics, executors), once listening.
    public var engines: [QueueEngine] { queues.withLock { $0?.engines ?? [] } }

    /// What the placement became once listening: the link as read from the kernel and the
    /// flags (subnet, MTU, gateway, VLAN), and how the program steers.
    public var network: (link: InterfaceConfiguration, steering: XDPPlacement.Steering)? {
        queues.withLock { set in set.map { ($0.link, $0.steering) } }
    }

    /// The engines of the last `listen`, also after `close` (final statistics).
    public var finishedEngines: [QueueEngine] { lastEngines.withLock { $0 } }

    public func stopAccepting() async {
        queues.withLock { $0 }?.stopAccepting()
    }

    public func close() async {
        guard let set = queues.withLock({ state -> XDPQueueSet? in defer { state = nil }; return state }) else { return }
        await set.close()
    }
}
