import ApusThrift
import Logging
import Synchronization

/// Everything a handler may want to know about the call it serves, besides
/// its arguments. A value: middleware passes a modified copy to what it wraps
/// (a tighter deadline, more metadata, a logger with more metadata).
public struct ServerContext: Sendable {
    public let method: MethodDescriptor
    public let sequenceID: Int32
    public let messageType: MessageType
    public let remotePeer: PeerAddress
    public let localPeer: PeerAddress
    /// When the caller stops waiting; nil means no deadline. Set by
    /// `TimeoutMiddleware` (and, later, by THeader's client timeout).
    public var deadline: ContinuousClock.Instant?
    /// Request metadata: key/value headers (filled by THeader transports).
    public var metadata: [String: String]
    public var logger: Logger
    @usableFromInline let connection: ConnectionState?

    public init(
        method: MethodDescriptor, sequenceID: Int32, messageType: MessageType = .call,
        remotePeer: PeerAddress = .unknown, localPeer: PeerAddress = .unknown,
        deadline: ContinuousClock.Instant? = nil, metadata: [String: String] = [:],
        logger: Logger = ServerContext.silentLogger, connection: ConnectionState? = nil
    ) {
        self.method = method
        self.sequenceID = sequenceID
        self.messageType = messageType
        self.remotePeer = remotePeer
        self.localPeer = localPeer
        self.deadline = deadline
        self.metadata = metadata
        self.logger = logger
        self.connection = connection
    }

    /// True when the call's task was cancelled (deadline, shutdown) or its
    /// connection closed: the reply would go nowhere, so stop early.
    @inlinable
    public var isCancelled: Bool {
        Task.isCancelled || (connection?.isClosed ?? false)
    }

    /// Time left before the deadline, nil without one.
    public var timeRemaining: Duration? {
        deadline.map { ContinuousClock.now.duration(to: $0) }
    }

    /// A logger that drops everything (the default for contexts made in tests).
    public static let silentLogger = Logger(label: "apus.silent", factory: { _ in SwiftLogNoOpLogHandler() })
}

/// What a transport shares with the calls it carries on one connection.
public final class ConnectionState: Sendable {
    @usableFromInline let closed = Atomic<Bool>(false)
    public let remotePeer: PeerAddress
    public let localPeer: PeerAddress

    public init(remotePeer: PeerAddress, localPeer: PeerAddress) {
        self.remotePeer = remotePeer
        self.localPeer = localPeer
    }

    @inlinable public var isClosed: Bool { closed.load(ordering: .relaxed) }

    /// Called by the transport when the connection goes away.
    public func markClosed() { closed.store(true, ordering: .relaxed) }
}
