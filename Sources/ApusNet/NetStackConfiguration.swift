import ApusWire

/// Neighbor cache and resolution limits (RFC 826; RFC 1122 §2.3.2.1 asks for
/// a bounded request rate and a bounded queue per unresolved destination).
public struct ARPConfiguration: Sendable, Hashable {
    /// How long a learned entry is trusted before it must be resolved again.
    public var entryLifetime: NetDuration = .seconds(60)
    /// Time between requests for one unresolved address (RFC 1122 §2.3.2.1: at most one per second).
    public var retryInterval: NetDuration = .seconds(1)
    /// Requests sent before giving up on an address and dropping what waits for it.
    public var maximumRequests: Int = 3
    /// Packets held per unresolved address; more are dropped and counted.
    public var maximumQueuedPackets: Int = 4
    /// Entries (resolved and pending) the cache holds; new ones evict the oldest.
    public var maximumEntries: Int = 1024
    /// An entry confirmed this recently (learned, or traffic arrived from its MAC) is not
    /// moved to another MAC by unsolicited ARP (Linux's `locktime`): one forged reply cannot
    /// redirect a live client's replies. Gratuitous ARP (RFC 5227 announcements) and answers
    /// to our own requests still update it.
    public var lockTime: NetDuration = .seconds(1)

    public init() {}
}

/// TCP knobs, with the RFCs' defaults (or the ones an RPC server wants).
public struct TCPConfiguration: Sendable, Hashable {
    /// Bytes the application may queue that are not yet acknowledged.
    public var sendBufferSize: Int = 256 * 1024
    /// Bytes received in order and not yet read: the most the receive window offers.
    public var receiveBufferSize: Int = 256 * 1024
    /// Challenge ACKs (RFC 5961 §7) one connection sends per second at most; beyond, the
    /// segments that would draw one are dropped silently (and counted), so a flood of forged
    /// segments gets no answer flood back.
    public var challengeACKsPerSecond: Int = 10
    /// Least time between two ACKs answering segments outside the window or failing PAWS
    /// (RFC 9293 §3.10.7.4 "send an acknowledgment"): one such ACK tells a genuine peer all it
    /// needs, and more would let forged or looping segments draw an ACK each (ACK loops,
    /// reflection). 500 ms is Linux's `tcp_invalid_ratelimit`.
    public var invalidSegmentACKInterval: NetDuration = .milliseconds(500)
    /// Out-of-order segments held for reassembly; beyond this they are dropped and counted
    /// (their bytes also count against the receive window, so the window bounds them too).
    public var maximumOutOfOrderSegments: Int = 64
    /// RFC 6298 §2.4 says 1 s; Linux and most RPC stacks use 200 ms.
    public var minimumRTO: NetDuration = .milliseconds(200)
    /// RFC 6298 §2.5: at least 60 s.
    public var maximumRTO: NetDuration = .seconds(60)
    /// RFC 6298 §2.1: before the first RTT sample.
    public var initialRTO: NetDuration = .seconds(1)
    /// RFC 9293 §3.8.6.3 / RFC 1122 §4.2.3.2: an ACK may wait at most 500 ms; 40 ms is what
    /// Linux waits, short enough that request/response traffic piggybacks without stalls.
    public var delayedACKTimeout: NetDuration = .milliseconds(40)
    /// Retransmissions of one segment before the connection is reset (RFC 9293 §3.8.3, R2);
    /// also the zero-window probes sent to a peer whose window never opens.
    public var maximumRetransmissions: Int = 12
    /// Retransmissions of a SYN before an active open fails.
    public var maximumSYNRetransmissions: Int = 6
    /// 2 × MSL (RFC 9293 §3.4.2). Shorter than the RFC's 4 min, like every modern stack.
    public var timeWaitDuration: NetDuration = .seconds(60)
    /// Offer window scaling (RFC 7323 §2).
    public var windowScaling: Bool = true
    /// Offer timestamps (RFC 7323 §3), echoed on every segment once agreed.
    public var timestamps: Bool = true
    /// Offer selective acknowledgments (RFC 2018): once both sides agree, ACKs name what
    /// arrived out of order, and after a loss only the holes the peer reports are resent
    /// (RFC 6675 loss recovery), not everything from the first lost byte on.
    public var selectiveAcknowledgments: Bool = true
    /// Send a partial segment even while data is in flight (no Nagle, RFC 896): RPC replies
    /// must not wait for the previous one's ACK.
    public var noDelay: Bool = true
    /// Answer SYNs with cookies when a listener's backlog is full (RFC 4987 §3.6).
    public var synCookies: Bool = true
    /// Keepalive probes on idle connections (RFC 1122 §4.2.3.6: off unless asked for).
    public var keepalive: TCPKeepalive? = nil

    public init() {}
}

/// Everything the stack needs to start.
public struct NetStackConfiguration: Sendable {
    public var interface: InterfaceConfiguration
    public var arp = ARPConfiguration()
    public var tcp = TCPConfiguration()
    /// Connection table size (every state but LISTEN counts). Beyond it, SYNs get cookies
    /// (or an RST with cookies off), and a cookie's ACK an RST.
    public var maximumConnections: Int = 65536
    /// Bytes all connections may hold: the send and receive buffers actually allocated (they
    /// grow with the data and are freed when drained) plus a fixed cost per connection. When it
    /// is spent, new connections are refused as when the table is full, arriving data is
    /// dropped unacknowledged and writes come up short, until memory frees.
    public var maximumBufferMemory: Int = 1 << 30
    /// Bytes all connections together may be offered in new receive windows, shared equally
    /// among the connections that received data within the last second (at least four
    /// segments each). On an AF_XDP queue this is what the RX ring holds: when every sender
    /// keeps within its window, a burst from all of them fits in the ring even if the loop is
    /// late, instead of overflowing it and costing each sender a retransmission. Windows
    /// already offered are never taken back (RFC 9293 §3.8.6.2.2); they shrink as the data
    /// arrives. nil: each connection offers its free receive buffer.
    public var receiveWindowBudget: Int? = nil
    /// A connection through which no byte moved for this long gives back the storage its
    /// drained buffers keep between messages (4 KiB each way), so idle connections hold only
    /// their control block; a busy one keeps it and allocates nothing per message.
    public var idleBufferRelease: NetDuration = .seconds(1)
    /// Accept a TCP or UDP checksum that holds only the pseudo-header sum (CHECKSUM_PARTIAL
    /// left by a local sender whose offload never ran: a veth peer with `tx` checksumming on).
    /// Off by default: on a real wire such a value is simply wrong, and accepting it would skip
    /// verifying the payload. AF_XDP gives no per-frame checksum metadata, so this is the
    /// operator's statement about the link, never a guess per packet.
    public var acceptPartialChecksums = false
    /// Datagrams one UDP endpoint holds that the application has not read.
    public var maximumQueuedDatagrams: Int = 64
    /// Stateless replies (ARP replies, RSTs, SYN-ACK cookies, echo replies) waiting for a TX frame.
    public var maximumPendingReplies: Int = 64
    /// Local ports for active opens (RFC 6056 §2.1 suggests 49152...65535).
    public var ephemeralPorts: ClosedRange<UInt16> = 49152...65535
    /// Key for initial sequence numbers (RFC 6528) and SYN cookies (RFC 4987): random for each
    /// configuration made (the system's generator, getrandom(2) on Linux), so neither can be
    /// predicted or forged by anyone who can read this source. Tests may set a fixed one.
    public var secret: (UInt64, UInt64) = NetStackConfiguration.randomSecret()
    /// Neighbours shared with the other stacks on the same interface (one per NIC queue): what
    /// one learns from ARP, the others use. nil: this stack's own cache only.
    public var sharedNeighbours: SharedNeighbours? = nil
    /// Called on every TCP state change, for tracing.
    public var tcpTrace: (@Sendable (TCPStateChange) -> Void)? = nil

    public init(interface: InterfaceConfiguration) {
        self.interface = interface
    }

    /// 128 bits from the system's cryptographically secure generator.
    public static func randomSecret() -> (UInt64, UInt64) {
        var generator = SystemRandomNumberGenerator()
        return (generator.next(), generator.next())
    }
}

/// When an idle connection is probed and how long an unanswered one lives
/// (RFC 1122 §4.2.3.6; the defaults are Linux's: 2 h idle, 75 s apart, 9 probes).
public struct TCPKeepalive: Sendable, Hashable {
    /// Quiet time (nothing received) before the first probe.
    public var idle: NetDuration
    /// Time between unanswered probes.
    public var interval: NetDuration
    /// Unanswered probes after which the connection is dropped (`.timedOut`).
    public var probes: Int

    public init(idle: NetDuration = .seconds(7200), interval: NetDuration = .seconds(75), probes: Int = 9) {
        self.idle = idle
        self.interval = interval
        self.probes = probes
    }
}
