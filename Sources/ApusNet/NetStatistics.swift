/// Counters for everything the stack drops or does, for `apus xdp stats`
/// and for tests that assert a drop happened for the right reason.
public struct NetStatistics: Sendable, Hashable {
    public var framesReceived = 0
    public var framesSent = 0
    /// Ethernet: truncated, unsupported (stacked tags, 802.3 length), unknown EtherType.
    public var droppedMalformed = 0
    public var droppedUnknownEtherType = 0
    /// Frames of another VLAN than the stack's (`InterfaceConfiguration.vlan`), tagged or untagged.
    public var droppedVLAN = 0
    /// Unicast frames to another MAC.
    public var droppedNotForUs = 0
    public var droppedBadChecksum = 0
    public var droppedFragments = 0
    public var droppedUnknownProtocol = 0
    /// TCP segments from a source no connection can have: broadcast, multicast, unspecified,
    /// our own address, or a link-layer broadcast/multicast sender (RFC 1122 §3.2.1.3, §4.2.3.10).
    public var droppedBadSource = 0
    public var arpRequestsAnswered = 0
    public var arpRequestsSent = 0
    public var arpEntriesLearned = 0
    /// ARP that would have moved a locked entry to another MAC (`ARPConfiguration.lockTime`).
    public var arpUpdatesIgnored = 0
    /// ARP from another MAC claiming one of our addresses (RFC 5227 §2.4): a misconfigured or
    /// hostile host; answered with an announcement at most every 10 s.
    public var arpAddressConflicts = 0
    /// Packets dropped because their neighbor's queue was full or resolution failed.
    public var arpQueueDrops = 0
    public var arpResolutionFailures = 0
    public var icmpEchoReplies = 0
    public var icmpIgnored = 0
    public var udpDelivered = 0
    /// Datagrams to a port nobody bound.
    public var udpNoEndpoint = 0
    public var udpQueueDrops = 0
    /// Segments and datagrams whose checksum was only the pseudo-header sum, accepted because
    /// `NetStackConfiguration.acceptPartialChecksums` says the link delivers them.
    public var partialChecksumsAccepted = 0
    public var tcpSegmentsReceived = 0
    public var tcpSegmentsSent = 0
    public var tcpRetransmissions = 0
    public var tcpFastRetransmits = 0
    /// Segments resent during loss recovery from the holes the peer's SACK blocks showed
    /// (RFC 6675), after the fast retransmit that began it.
    public var tcpSACKRetransmits = 0
    /// Retransmission timer expirations (RFC 6298 §5.4), each followed by a go-back-N resend.
    public var tcpTimeouts = 0
    public var tcpResetsSent = 0
    public var tcpChallengeACKs = 0
    /// Challenge ACKs not sent: the connection's RFC 5961 §7 budget for the second was spent.
    public var tcpChallengeACKsSuppressed = 0
    /// Segments outside the window (or failing PAWS) left unanswered: an ACK for one had gone
    /// out within `TCPConfiguration.invalidSegmentACKInterval`.
    public var tcpInvalidSegmentACKsSuppressed = 0
    public var tcpOutOfOrderQueued = 0
    public var tcpOutOfOrderDropped = 0
    /// Segments (or their tails) dropped unacknowledged: buffering them would exceed
    /// `NetStackConfiguration.maximumBufferMemory`. The peer sends them again.
    public var tcpDroppedNoMemory = 0
    public var tcpSYNCookiesSent = 0
    public var tcpSYNCookiesAccepted = 0
    /// SYNs refused with an RST: backlog, connection table or memory full and cookies off.
    public var tcpListenDrops = 0
    /// Replies (ARP, RST, echo) dropped because the pending-reply queue was full.
    public var replyQueueDrops = 0

    public init() {}
}
