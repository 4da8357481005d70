import ApusThrift

/// How a server treats each connection, on whichever transport: how messages
/// are framed, how long one may take to arrive, when a quiet connection is
/// closed, how many replies it may owe before it reads no more calls. The
/// stream core (`ServerConnection`) enforces it; the transports only carry it.
public struct ServerConnectionPolicy: Sendable {
    /// nil: sniffed from each connection's first bytes.
    public var framing: ThriftFraming?
    /// nil: sniffed per message.
    public var protocolID: ThriftProtocolID?
    /// `maxFrameSize` caps frames and (for unframed streams) messages, before buffering.
    public var limits: ThriftLimits
    /// A message in progress must be complete this long after its first byte arrived, plus
    /// one second for every `minimumReadRate` bytes of it received (Apache httpd's
    /// mod_reqtimeout): a slow but steady sender gets the time it needs, while a trickle
    /// (slowloris) or a stall is reset.
    public var readTimeout: Duration
    /// Bytes per second a message in progress must keep arriving at (see `readTimeout`); 0: the
    /// whole message within `readTimeout`.
    public var minimumReadRate: Int
    /// A connection with nothing in progress and nothing owed for this long is closed; nil: never.
    public var idleTimeout: Duration?
    /// After the peer's FIN, or at shutdown, how long owed replies may take before the
    /// connection closes anyway.
    public var drainTimeout: Duration
    /// Calls one connection may have in progress (dispatched, reply not yet out); at this many
    /// it reads no more calls until replies go out (back pressure), so a client pipelining
    /// calls without reading their replies cannot pile them up in the server's memory.
    public var maximumOwedReplies: Int

    public init(
        framing: ThriftFraming? = nil, protocol protocolID: ThriftProtocolID? = nil, limits: ThriftLimits = .default,
        readTimeout: Duration = .seconds(10), minimumReadRate: Int = 1024, idleTimeout: Duration? = .seconds(600),
        drainTimeout: Duration = .seconds(5), maximumOwedReplies: Int = 32
    ) {
        self.framing = framing
        self.protocolID = protocolID
        self.limits = limits
        self.readTimeout = readTimeout
        self.minimumReadRate = minimumReadRate
        self.idleTimeout = idleTimeout
        self.drainTimeout = drainTimeout
        self.maximumOwedReplies = maximumOwedReplies
    }
}
