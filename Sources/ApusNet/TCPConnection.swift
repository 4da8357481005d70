import ApusWire

/// One TCP connection: the transmission control block of RFC 9293 §3.3.1
/// and the state machine that drives it.
///
/// Sans-IO: segments come in through `process(_:at:deliver:)` together with
/// the current time, the stack asks `nextSegment(at:)` what to send and
/// confirms with `didTransmit(_:at:)` once a frame was free; timers run in
/// `handleTimers(at:)`. Every state change goes through `setState(_:)`, and
/// every transition is decided in `transition(_:)`.
struct TCPConnection {
    let tuple: TCPFourTuple
    let configuration: TCPConfiguration
    private let trace: (@Sendable (TCPStateChange) -> Void)?
    /// Opened by a listener: an RST in SYN-RECEIVED returns it to LISTEN (deleted silently).
    let isPassive: Bool
    private(set) var state: TCPState = .closed

    // MARK: Send sequence space (RFC 9293 §3.3.1)

    var iss: SequenceNumber
    var sendUnacknowledged: SequenceNumber
    var sendNext: SequenceNumber
    /// The highest sequence number sent plus one: after an RTO rewinds `sendNext`, the
    /// segments below this are retransmissions (Karn's rule) and ACKs up to it are valid.
    var sendMaximum: SequenceNumber
    /// SND.WND in bytes, already scaled.
    var sendWindow = 0
    var sendWindowUpdateSequence = SequenceNumber(0)
    var sendWindowUpdateAcknowledgment = SequenceNumber(0)
    /// MAX.SND.WND (RFC 5961 §5.2).
    var maximumSendWindow = 0
    /// Shift applied to the peer's window fields (its window scale option).
    var sendWindowShift: UInt8 = 0
    /// Payload bytes per segment: the peer's MSS less our per-segment options.
    var sendMSS: Int
    /// Data queued by the application, starting at sequence `sendBufferStart`.
    var sendBuffer: ByteRing
    var sendBufferStart: SequenceNumber
    /// The application closed its side: a FIN follows the queued data.
    var finQueued = false

    // MARK: Receive sequence space

    var initialReceiveSequence = SequenceNumber(0)
    var receiveNext = SequenceNumber(0)
    /// Shift applied to the windows we advertise.
    var receiveWindowShift: UInt8 = 0
    /// RCV.NXT + RCV.WND as last advertised: the window's right edge never moves left
    /// (RFC 9293 §3.8.6.2.2).
    var advertisedRightEdge = SequenceNumber(0)
    var receiveBuffer: ByteRing
    /// The most a new window may offer (the stack's `receiveWindowBudget` divided among the
    /// connections receiving data); set by the stack as it hands the connection a segment.
    var windowShare = Int.max
    /// Data arrived since the stack last counted the connections receiving it.
    var receivedThisPeriod = false
    /// Where both directions stood at the last idle sweep (`sweepIdleBuffers`).
    var idleMark: (received: SequenceNumber, sent: SequenceNumber)?
    var reassembly: ReassemblyQueue
    var finReceived = false

    // MARK: Options (RFC 7323)

    /// Both sides sent the window scale option (RFC 7323 §2.2).
    var windowScalingEnabled = false
    var timestampsEnabled = false
    /// TS.Recent holds a value (PAWS has something to compare with).
    var timestampRecentValid = false
    /// TS.Recent: the peer's TSval to echo (RFC 7323 §4.3).
    var timestampRecent: UInt32 = 0
    /// Last.ACK.sent, for updating TS.Recent.
    var lastAcknowledgmentSent = SequenceNumber(0)

    // MARK: Selective acknowledgment (RFC 2018, RFC 6675)

    /// Both sides sent SACK-permitted.
    var sackEnabled = false
    /// What the peer reported holding above SND.UNA.
    var scoreboard = SACKScoreboard()
    /// HighRxt + 1 (RFC 6675 §2): the end of what this loss recovery retransmitted.
    var retransmittedEnd = SequenceNumber(0)
    /// Where the latest out-of-order segments began, newest first (at most four): the SACK
    /// blocks we send start with the ranges holding them (RFC 2018 §4).
    var recentOutOfOrder: [SequenceNumber] = []

    // MARK: Timers and retransmission (RFC 6298)

    var rtt: RTTEstimator
    /// The segment being timed: its end sequence and when it left. Cleared when anything is
    /// retransmitted (Karn's rule).
    var rttProbe: (end: SequenceNumber, sentAt: NetInstant)?
    var retransmitDeadline: NetInstant?
    /// Consecutive RTO expirations without progress.
    var retransmitCount = 0
    var persistDeadline: NetInstant?
    var persistBackoff = 0
    /// A zero-window probe is due.
    var probeDue = false
    /// When the idle connection is next probed (keepalive on, ESTABLISHED or CLOSE-WAIT).
    var keepaliveDeadline: NetInstant?
    /// Probes sent since the peer was last heard from.
    var keepaliveProbesSent = 0
    /// When this connection's segments last confirmed the peer's ARP entry (rate-limits the lookups).
    var neighbourConfirmed = NetInstant.zero
    /// Passive opens: the link-layer source of the peer's SYN. Segments go back there, as the
    /// reply to any frame would, so serving never waits on ARP and a peer behind a router is
    /// answered through the router its SYN came through. nil: resolve the next hop (active opens).
    var linkAddress: MACAddress?
    /// A keepalive probe is due.
    var keepaliveDue = false
    var delayedACKDeadline: NetInstant?
    /// An ACK must go out at the next opportunity.
    var acknowledgeNow = false
    /// RFC 5961 §7 budget: challenge ACKs sent in the second that began at `challengeWindowStart`.
    var challengeACKsInWindow = 0
    var challengeWindowStart = NetInstant.zero
    /// When we last answered a segment outside the window (`invalidSegmentACKInterval`).
    var lastInvalidSegmentACK: NetInstant?
    /// In-order bytes received since the last ACK we sent.
    var unacknowledgedBytes = 0
    var timeWaitDeadline: NetInstant?

    // MARK: Congestion control (RFC 5681, RFC 6582)

    var congestionWindow: Int
    var slowStartThreshold = Int.max
    var duplicateACKs = 0
    var recover: SequenceNumber
    var inFastRecovery = false
    /// Resend the first unacknowledged segment now (fast retransmit or a NewReno partial ACK).
    var fastRetransmitDue = false

    // MARK: Application interface

    var closeReason: TCPCloseReason?
    /// The listener whose backlog this connection counts against while in SYN-RECEIVED.
    var listenerPort: UInt16?
    /// That listener overflowed while this connection was half-open: one SYN,ACK
    /// retransmission, not `maximumSYNRetransmissions`, before it gives up.
    var halfOpenUnderPressure = false
    /// A passive open reset in SYN-RECEIVED: deleted without telling the application.
    var returnedToListen = false
    var notifications: Notifications = []
    /// A `readable` was signalled and the application has not read since.
    var readableSignalled = false
    /// A write came up short; signal `writable` when space frees.
    var writerWaiting = false

    struct Notifications: OptionSet {
        let rawValue: UInt8
        static let established = Notifications(rawValue: 1)
        static let readable = Notifications(rawValue: 2)
        static let writable = Notifications(rawValue: 4)
        static let closed = Notifications(rawValue: 8)
    }

    /// A connection in CLOSED with its buffers, about to be opened.
    init(tuple: TCPFourTuple, configuration: TCPConfiguration, initialSequenceNumber: SequenceNumber,
         passive: Bool, mtu: Int, trace: (@Sendable (TCPStateChange) -> Void)?) {
        self.tuple = tuple
        self.configuration = configuration
        self.trace = trace
        self.isPassive = passive
        iss = initialSequenceNumber
        sendUnacknowledged = initialSequenceNumber
        sendNext = initialSequenceNumber
        sendMaximum = initialSequenceNumber
        recover = initialSequenceNumber
        retransmittedEnd = initialSequenceNumber
        sendBufferStart = initialSequenceNumber + 1
        sendMSS = Self.defaultMSS
        sendBuffer = ByteRing(capacity: configuration.sendBufferSize)
        receiveBuffer = ByteRing(capacity: configuration.receiveBufferSize)
        reassembly = ReassemblyQueue(maximumRanges: configuration.maximumOutOfOrderSegments)
        rtt = RTTEstimator(configuration: configuration)
        localMSS = mtu - IPv4Packet.minimumHeaderLength - TCPSegment.minimumHeaderLength
        congestionWindow = Self.defaultMSS
        if configuration.windowScaling {
            var shift: UInt8 = 0
            while configuration.receiveBufferSize >> Int(shift) > Int(UInt16.max) && shift < TCPOptions.maximumWindowScale {
                shift += 1
            }
            receiveWindowShift = shift
        }
    }

    /// RFC 9293 §3.7.1: the MSS to assume when the peer sends none.
    static var defaultMSS: Int { 536 }
    /// The MSS we announce: what fits our MTU.
    let localMSS: Int

    // MARK: State

    /// The one place the state changes, so every transition can be traced.
    mutating func setState(_ newState: TCPState) {
        guard newState != state else { return }
        let old = state
        state = newState
        trace?(TCPStateChange(connection: tuple, from: old, to: newState))
    }

    /// What moved the connection.
    enum Transition {
        case activeOpen, passiveSYN
        case receivedSYN, receivedSYNACK, synAcknowledged
        case close, receivedFIN, finAcknowledged
        case reset, abort, timeout, timeWaitExpired
    }

    /// Every state transition of RFC 9293 §3.3.2 (figure 5) and §3.10, in one place.
    mutating func transition(_ event: Transition) {
        switch (state, event) {
        // §3.10.1 OPEN: active open sends a SYN; a listener's copy gets the SYN it answers.
        case (.closed, .activeOpen): setState(.synSent)
        case (.closed, .passiveSYN), (.listen, .passiveSYN): setState(.synReceived)
        // §3.10.7.3: a SYN without ACK in SYN-SENT is a simultaneous open.
        case (.synSent, .receivedSYN): setState(.synReceived)
        // §3.10.7.3: SYN,ACK acknowledging our SYN.
        case (.synSent, .receivedSYNACK): setState(.established)
        // §3.10.7.4 fifth step: an acceptable ACK in SYN-RECEIVED.
        case (.synReceived, .synAcknowledged): setState(.established)
        // §3.10.4 CLOSE: queue a FIN after the data (SYN-RECEIVED and ESTABLISHED), or reply
        // to the peer's (CLOSE-WAIT); in SYN-SENT there is nothing to close yet.
        case (.synReceived, .close), (.established, .close): setState(.finWait1)
        case (.closeWait, .close): setState(.lastAck)
        case (.synSent, .close): close(.normal)
        // §3.10.7.4 eighth step: the peer's FIN.
        case (.synReceived, .receivedFIN), (.established, .receivedFIN): setState(.closeWait)
        case (.finWait1, .receivedFIN): setState(.closing)
        case (.finWait2, .receivedFIN): setState(.timeWait)
        // §3.10.7.4 fifth step: our FIN acknowledged.
        case (.finWait1, .finAcknowledged): setState(.finWait2)
        case (.closing, .finAcknowledged): setState(.timeWait)
        case (.lastAck, .finAcknowledged): close(.normal)
        // §3.10.7.4 second step: an exact RST. In SYN-SENT the open was refused (§3.10.7.3);
        // CLOSING, LAST-ACK and TIME-WAIT had finished their exchange anyway.
        case (.synSent, .reset): close(.refused)
        case (.closing, .reset), (.lastAck, .reset), (.timeWait, .reset): close(.normal)
        case (_, .reset): close(.reset)
        // §3.10.5 ABORT, §3.8.3 R2 (retransmissions ran out), §3.10.8 (2 MSL passed).
        case (_, .abort): close(.aborted)
        case (_, .timeout): close(.timedOut)
        case (.timeWait, .timeWaitExpired): close(.normal)
        default:
            break
        }
    }

    private mutating func close(_ reason: TCPCloseReason) {
        if closeReason == nil { closeReason = reason }
        setState(.closed)
        notifications.insert(.closed)
        retransmitDeadline = nil
        persistDeadline = nil
        delayedACKDeadline = nil
        timeWaitDeadline = nil
        acknowledgeNow = false
        fastRetransmitDue = false
        probeDue = false
        keepaliveDeadline = nil
        keepaliveDue = false
    }

    // MARK: Derived values

    /// The sequence number of our FIN, once the application closed.
    var finSequence: SequenceNumber? { finQueued ? sendBufferStart + sendBuffer.count : nil }

    /// Whether our FIN has been acknowledged.
    var finAcknowledged: Bool {
        guard let finSequence else { return false }
        return sendUnacknowledged > finSequence
    }

    /// Bytes sent and not yet acknowledged (FlightSize, RFC 5681 §2).
    var flightSize: Int { sendNext - sendUnacknowledged }

    /// The window segments are accepted in: the free receive buffer, never less than what
    /// was already promised.
    var receiveWindow: Int {
        max(receiveBuffer.freeSpace, advertisedRightEdge - receiveNext)
    }

    /// The window to advertise now: the free receive buffer up to this connection's share of
    /// the stack's `receiveWindowBudget`, never less than what was already promised.
    var offeredWindow: Int {
        max(min(receiveBuffer.freeSpace, windowShare), advertisedRightEdge - receiveNext)
    }

    /// The fields the stack reads after touching a connection, in one mutating access.
    /// Reading them through `connections[i]!` copies the whole connection (retaining its
    /// buffers) on every segment; a mutating access through the array works in place.
    struct Status {
        var state: TCPState
        var returnedToListen: Bool
        var listenerPort: UInt16?
        var hasNotifications: Bool
        var nextDeadline: NetInstant
        var wantsToSend: Bool
    }

    mutating func status() -> Status {
        Status(state: state, returnedToListen: returnedToListen, listenerPort: listenerPort,
               hasNotifications: !notifications.isEmpty, nextDeadline: nextDeadline, wantsToSend: wantsToSend)
    }

    /// The earliest time this connection needs `handleTimers`.
    var nextDeadline: NetInstant {
        var deadline = NetInstant.distantFuture
        if let keepaliveDeadline { deadline = min(deadline, keepaliveDeadline) }
        if let retransmitDeadline { deadline = min(deadline, retransmitDeadline) }
        if let persistDeadline { deadline = min(deadline, persistDeadline) }
        if let delayedACKDeadline { deadline = min(deadline, delayedACKDeadline) }
        if let timeWaitDeadline { deadline = min(deadline, timeWaitDeadline) }
        return deadline
    }

    /// Whether `nextSegment` would return something without time passing.
    var wantsToSend: Bool {
        acknowledgeNow || fastRetransmitDue || probeDue || keepaliveDue || hasSendableData
            || ((state == .synSent || state == .synReceived) && sendNext == iss) || sackRetransmission() != nil
    }
}

extension TCPConnection {
    /// Called about once per `idleBufferRelease`: when no byte moved either way since the
    /// last call, drained buffers give their storage back (they keep some between messages
    /// while traffic flows). Bytes in flight, unread or out of order keep theirs.
    mutating func sweepIdleBuffers(memory: inout BufferMemory) {
        let mark = (received: receiveNext, sent: sendNext)
        defer { idleMark = mark }
        guard let last = idleMark, last.received == mark.received, last.sent == mark.sent else { return }
        if reassembly.isEmpty { receiveBuffer.releaseIfDrained(memory: &memory, keepingNone: true) }
        sendBuffer.releaseIfDrained(memory: &memory, keepingNone: true)
    }
}
