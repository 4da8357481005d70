import ApusNet
import ApusXSK
import Synchronization

/// Counters of one queue engine.
public struct EngineStatistics: Sendable {
    public var queue: UInt32 = 0
    public var accepted = 0
    public var connected = 0
    public var closed = 0
    public var closedAbnormally = 0
    /// Of those: reset by the peer, and given up after unanswered retransmissions or probes
    /// (the rest were aborted here: a stream error, shutdown).
    public var closedByReset = 0
    public var closedByTimeout = 0
    public var connectionsFailed = 0
    public var connections = 0
    public var messagesReceived = 0
    public var messagesSent = 0
    /// Messages that did not fit the send buffer whole and waited in the connection's own buffer.
    public var messagesDeferred = 0
    /// Messages that spanned segments and were reassembled.
    public var messagesReassembled = 0
    public var transmitBlocked = 0
    public var net = NetStatistics()
    public var frames = FrameAccounting(total: 0)
    /// The kernel's counters for the queue's socket (drops, ring full, invalid descriptors).
    public var kernel: XSKKernelStatistics?

    public init() {}

    /// Counts a connection that ApusNet closed for `reason`.
    mutating func countClose(_ reason: TCPCloseReason) {
        closed += 1
        switch reason {
        case .normal: return
        case .reset: closedByReset += 1
        case .timedOut: closedByTimeout += 1
        case .refused, .aborted: break
        }
        closedAbnormally += 1
    }

    /// `key=value` pairs, the form scripts parse.
    public var summary: String {
        "accepted=\(accepted) connected=\(connected) closed=\(closed) closed_abnormally=\(closedAbnormally)"
            + " closed_reset=\(closedByReset) closed_timeout=\(closedByTimeout)"
            + " connections_failed=\(connectionsFailed) connections_open=\(connections) messages_in=\(messagesReceived)"
            + " messages_out=\(messagesSent) messages_deferred=\(messagesDeferred) messages_reassembled=\(messagesReassembled)"
            + " tcp_retransmissions=\(net.tcpRetransmissions) tcp_resets_sent=\(net.tcpResetsSent) tx_blocked=\(transmitBlocked) \(frames)"
            + (kernel.map {
                // What the kernel dropped before the queue saw it: a full RX ring, an empty fill ring.
                " xsk_rx_dropped=\($0.rxDropped) xsk_rx_ring_full=\($0.rxRingFull) xsk_fill_ring_empty=\($0.fillRingEmpty)"
            } ?? "")
    }
}
