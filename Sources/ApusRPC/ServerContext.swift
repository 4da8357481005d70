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
    /// The caller's address: its connection's, unless the context was made with one.
    public var remotePeer: PeerAddress { givenPeers?.remote ?? connection?.remotePeer ?? .unknown }
    /// This server's end of the call's connection.
    public var localPeer: PeerAddress { givenPeers?.local ?? connection?.localPeer ?? .unknown }
    /// Set by the public initializer; a dispatched call's context reads its connection's instead
    /// of copying them (two strings retained and released per call).
    private let givenPeers: (remote: PeerAddress, local: PeerAddress)?
    /// When the caller stops waiting; nil means no deadline. Set from the caller's timeout
    /// (THeader's `client_timeout`, TTHeader's RPC timeout) and by `TimeoutMiddleware`.
    public var deadline: ContinuousClock.Instant?
    /// Request metadata: the string key/value headers of a call that came in THeader (per
    /// message and persistent) or TTHeader; empty for plain framed and buffered calls.
    public var metadata: [String: String]
    /// TTHeader's integer-keyed info, as Kitex sends it (`THeader.TTKey`: 3 caller service,
    /// 6 called service, 9 method, 12 timeout in ms, …); empty for every other framing.
    public var intMetadata: [UInt16: String]
    public var logger: Logger
    /// Headers for the reply (info headers when the call came in THeader or TTHeader; other
    /// framings carry none): handlers and middleware add to it. Made when first used, so a
    /// header call whose handler sets none allocates nothing for them; set after the reply
    /// went, they are dropped.
    public var responseMetadata: ResponseMetadata {
        switch replyHeaders {
        case .fixed(let metadata): metadata
        case .call(let connection, let id): connection.responseMetadata(forCall: id)
        }
    }
    package var replyHeaders: ReplyHeaders

    /// Where a call's reply headers live: a given object, or the call's slot in its
    /// connection's table of header calls in flight.
    package enum ReplyHeaders: Sendable {
        case fixed(ResponseMetadata)
        case call(ConnectionState, UInt64)
    }
    @usableFromInline let connection: ConnectionState?

    public init(
        method: MethodDescriptor, sequenceID: Int32, messageType: MessageType = .call,
        remotePeer: PeerAddress = .unknown, localPeer: PeerAddress = .unknown,
        deadline: ContinuousClock.Instant? = nil, metadata: [String: String] = [:], intMetadata: [UInt16: String] = [:],
        logger: Logger = ServerContext.silentLogger, connection: ConnectionState? = nil,
        responseMetadata: ResponseMetadata = .discarded
    ) {
        self.method = method
        self.sequenceID = sequenceID
        self.messageType = messageType
        self.givenPeers = (remotePeer, localPeer)
        self.deadline = deadline
        self.metadata = metadata
        self.intMetadata = intMetadata
        self.logger = logger
        self.connection = connection
        self.replyHeaders = .fixed(responseMetadata)
    }

    /// A dispatched call's context, made in one piece (so it can be moved into the call's task).
    package init(
        method: MethodDescriptor, sequenceID: Int32, messageType: MessageType, connection: ConnectionState,
        deadline: ContinuousClock.Instant?, metadata: [String: String], intMetadata: [UInt16: String], logger: Logger,
        replyHeaders: ReplyHeaders
    ) {
        self.method = method
        self.sequenceID = sequenceID
        self.messageType = messageType
        self.givenPeers = nil
        self.deadline = deadline
        self.metadata = metadata
        self.intMetadata = intMetadata
        self.logger = logger
        self.connection = connection
        self.replyHeaders = replyHeaders
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

    /// The reply headers of the THeader/TTHeader calls in flight here: a slot per call from
    /// dispatch to reply, its `ResponseMetadata` made only when a handler first asks for it.
    /// A short array scanned oldest first, not a dictionary: calls in flight on one connection
    /// are few and mostly end in order, and a scan costs less than hashing an id three times
    /// per call. Its storage is reused, so a call that sets no reply headers allocates nothing.
    private let headerCalls = Mutex(HeaderCalls())

    private struct HeaderCalls {
        var next: UInt64 = 0
        var slots: [(id: UInt64, metadata: ResponseMetadata?)] = []

        func index(of id: UInt64) -> Int? {
            var i = 0
            while i < slots.count {
                if slots[i].id == id { return i }
                i += 1
            }
            return nil
        }
    }

    /// Opens a header call's slot; `endHeaderCall` closes it.
    package func beginHeaderCall() -> UInt64 {
        headerCalls.withLock { state in
            state.next &+= 1
            state.slots.append((state.next, nil))
            return state.next
        }
    }

    /// The call's reply headers, made on first use; `.discarded` once its reply went.
    package func responseMetadata(forCall id: UInt64) -> ResponseMetadata {
        headerCalls.withLock { state in
            guard let i = state.index(of: id) else { return .discarded }
            if let metadata = state.slots[i].metadata { return metadata }
            let metadata = ResponseMetadata()
            state.slots[i].metadata = metadata
            return metadata
        }
    }

    /// Header calls whose slot is open (for tests: every call closes its slot).
    package var headerCallsInFlight: Int { headerCalls.withLock { $0.slots.count } }

    /// Closes the call's slot and returns the headers set in it (none when it is closed already).
    @discardableResult
    package func endHeaderCall(_ id: UInt64) -> [String: String] {
        let metadata = headerCalls.withLock { state -> ResponseMetadata? in
            guard let i = state.index(of: id) else { return nil }
            return state.slots.remove(at: i).metadata
        }
        return metadata?.all ?? Dictionary()
    }
}

/// The headers a reply will carry, set by the handler or middleware while the call runs.
/// A reference: every copy of a call's `ServerContext` shares it. Calls whose framing
/// carries no headers share `discarded`, which keeps nothing (and costs no allocation).
public final class ResponseMetadata: Sendable {
    private let headers = Mutex<[String: String]>([:])
    private let keeps: Bool

    public init() { keeps = true }
    private init(discarding: Void) { keeps = false }

    /// For calls that cannot carry reply headers (framed or buffered, not THeader).
    public static let discarded = ResponseMetadata(discarding: ())

    public subscript(key: String) -> String? {
        get { headers.withLock { $0[key] } }
        set {
            guard keeps else { return }
            headers.withLock { $0[key] = newValue }
        }
    }

    /// Every header set so far.
    public var all: [String: String] { headers.withLock { $0 } }
}

/// The deadline of the call a task is serving, so calls it makes to other services inherit it:
/// a client call with no timeout of its own gets the time left (and is not sent at all when
/// none is left), and over THeader (TTHeader) the next server learns it as `client_timeout` (int key 12). Set by the
/// dispatcher for calls that came with a deadline and by `TimeoutMiddleware`.
public enum CallDeadline {
    @TaskLocal public static var current: ContinuousClock.Instant?
}
