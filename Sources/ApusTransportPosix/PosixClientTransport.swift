import ApusRPC
import ApusThrift
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A client connection pool for one endpoint over kernel TCP.
///
/// Calls spread round-robin over `connections` connections, each with any
/// number of calls outstanding (matched by sequence id). A call made on a
/// pool connection's own event loop (a task whose executor preference is
/// `taskExecutor(for:)`) runs without a thread hop.
public final class PosixClientTransport: ClientTransport {
    public struct Configuration: Sendable {
        public var framing: ThriftFraming
        public var protocolID: ThriftProtocolID
        public var limits: ThriftLimits
        /// Connections in the pool.
        public var connections: Int
        public var connectTimeout: TimeAmount
        /// Send `Service:method` names (TMultiplexedProtocol), for servers that host several services.
        public var multiplexed: Bool
        /// Send every call in a THeader frame (Apache's HeaderFormatSpec) or a TTHeader frame
        /// (Kitex's), with `CallOptions.metadata` and the timeout as its headers; replies'
        /// headers go to `CallOptions.responseMetadata`. `framing` is then ignored. nil: none.
        public var header: THeader.Format? = nil
        /// Connect with TLS (`TLSFiles.client(...)` builds one from PEM files); nil: plain TCP.
        public var tls: TLSConfiguration? = nil
        /// The name the server's certificate must carry (and SNI); default: the host when it is a
        /// name (for an IP address the certificate must list that address).
        public var tlsServerName: String? = nil

        public init(
            framing: ThriftFraming = .framed, protocol protocolID: ThriftProtocolID = .binary, limits: ThriftLimits = .default,
            connections: Int = 1, connectTimeout: TimeAmount = .seconds(5), multiplexed: Bool = false
        ) {
            precondition(connections >= 1, "a pool needs at least one connection")
            self.framing = framing
            self.protocolID = protocolID
            self.limits = limits
            self.connections = connections
            self.connectTimeout = connectTimeout
            self.multiplexed = multiplexed
        }
    }

    public let host: String
    public let port: Int
    public let configuration: Configuration
    private let pool: [ClientChannel]
    private let executors: [EventLoopTaskExecutor]
    private let nextIndex = Atomic<Int>(0)

    public init(host: String, port: Int, configuration: Configuration = Configuration(),
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "apus.client")) {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.pool = (0..<configuration.connections).map { _ in
            ClientChannel(eventLoop: group.next(), host: host, port: port, configuration: configuration, logger: logger)
        }
        self.executors = pool.map { EventLoopTaskExecutor($0.eventLoop) }
    }

    /// The task executor of connection `index`'s event loop: tasks started
    /// with it as their preference call through that connection without hops.
    public func taskExecutor(forConnection index: Int) -> any TaskExecutor {
        executors[index % executors.count]
    }

    /// Picks a connection: one on the current event loop if there is one, else round-robin.
    private func pick() -> ClientChannel {
        let start = nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue
        for offset in 0..<pool.count {
            let connection = pool[(start &+ offset) % pool.count]
            if connection.eventLoop.inEventLoop { return connection }
        }
        return pool[start % pool.count]
    }

    public func call<Reply: Sendable>(
        _ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions,
        decode: @escaping @Sendable (borrowing IncomingMessage) throws(RPCError) -> Reply
    ) async throws -> Reply {
        let options = try options.inheritingDeadline(for: method)
        let connection = pick()
        let sequenceID = connection.nextSequenceID()
        let buffer = try connection.encode(request, method: method, type: .call, sequenceID: sequenceID, options: options)
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Reply, any Error>) in
                let complete: ClientChannel.Completion = { result in continuation.resume(with: result, decode: decode) }
                if connection.eventLoop.inEventLoop {
                    connection.startCall(buffer, sequenceID: sequenceID, method: method, timeout: options.timeout,
                                         responseMetadata: options.responseMetadata, complete: complete)
                } else {
                    nonisolated(unsafe) let complete = complete
                    connection.eventLoop.execute {
                        connection.startCall(buffer, sequenceID: sequenceID, method: method, timeout: options.timeout,
                                         responseMetadata: options.responseMetadata, complete: complete)
                    }
                }
            }
        } onCancel: {
            connection.eventLoop.execute {
                connection.cancel(sequenceID, RPCError(.cancelled, "\(method) was cancelled by the caller"))
            }
        }
    }

    public func callOneway(_ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions) async throws {
        let connection = pick()
        let promise = connection.eventLoop.makePromise(of: Void.self)
        if connection.eventLoop.inEventLoop {
            connection.startOneway(request, method: method, written: promise)
        } else {
            connection.eventLoop.execute { connection.startOneway(request, method: method, written: promise) }
        }
        do {
            try await promise.futureResult.get()
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(.unavailable, "oneway \(method) to \(connection.endpoint) could not be written: \(error)", cause: error)
        }
    }

    /// Closes every connection; calls outstanding on them, and every later call, fail with `.unavailable`.
    public func close() async {
        for connection in pool { try? await connection.close().get() }
    }
}

