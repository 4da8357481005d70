import ApusWire

/// A segment the connection wants sent: the header, and where its payload
/// sits in the send buffer (copied straight into the TX frame).
struct TCPOutgoing {
    enum Kind {
        /// New data, a retransmission after a timeout (go-back-N from SND.UNA), a SYN or FIN,
        /// or a bare ACK.
        case normal
        /// One segment from SND.UNA, resent without moving SND.NXT (RFC 5681 §3.2, RFC 6582).
        case fastRetransmit
        /// One byte past a zero window (RFC 9293 §3.8.6.1).
        case windowProbe
        /// An empty segment at SND.UNA − 1 that the peer must acknowledge (RFC 1122 §4.2.3.6).
        case keepalive
    }

    var repr: TCPRepr
    /// Offset of the payload's first byte from the head of the send buffer.
    var payloadOffset: Int
    var kind: Kind
}

extension TCPConnection {
    /// RFC 6928: the initial congestion window, min(10 × MSS, max(2 × MSS, 14600)).
    var initialCongestionWindow: Int { min(10 * sendMSS, max(2 * sendMSS, 14_600)) }

    /// Whether our FIN has been sent (and not rewound by a timeout).
    var finSent: Bool {
        guard let finSequence else { return false }
        return sendMaximum > finSequence
    }

    var hasSendableData: Bool { state.isSynchronized && dataSegmentLength() != nil }

    /// The segment to send now, if any; nothing changes until `didTransmit`.
    func nextSegment(at now: NetInstant) -> TCPOutgoing? {
        switch state {
        case .closed, .listen:
            return nil
        case .timeWait:
            // §3.10.7.4: only ACKs of the peer's retransmitted FIN.
            return acknowledgeNow ? bareACK(at: now) : nil
        case .synSent:
            // §3.10.1: <SEQ=ISS><CTL=SYN>; nothing else until the SYN is acknowledged.
            return sendNext == iss ? synSegment(at: now, acknowledging: false) : nil
        case .synReceived:
            // §3.10.7.2: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
            if sendNext == iss { return synSegment(at: now, acknowledging: true) }
            return acknowledgeNow ? bareACK(at: now) : nil
        default:
            break
        }
        if fastRetransmitDue, let segment = fastRetransmitSegment(at: now) { return segment }
        if let (length, fin) = dataSegmentLength() {
            let offset = sendNext - sendBufferStart
            var flags: TCPFlags = [.ack]
            if fin { flags.insert(.fin) }
            if length > 0 && offset + length == sendBuffer.count { flags.insert(.psh) }
            return TCPOutgoing(repr: header(sequence: sendNext, flags: flags, payloadLength: length, at: now),
                               payloadOffset: offset, kind: .normal)
        }
        if probeDue {
            let offset = sendNext - sendBufferStart
            if offset < sendBuffer.count {
                return TCPOutgoing(repr: header(sequence: sendNext, flags: [.ack], payloadLength: 1, at: now),
                                   payloadOffset: offset, kind: .windowProbe)
            }
        }
        if keepaliveDue {
            return TCPOutgoing(repr: header(sequence: sendUnacknowledged - 1, flags: [.ack], payloadLength: 0, at: now),
                               payloadOffset: 0, kind: .keepalive)
        }
        return acknowledgeNow ? bareACK(at: now) : nil
    }

    /// How much new data (and whether the FIN) to send from SND.NXT, or nil for nothing.
    /// The usable window is min(SND.WND, cwnd) less FlightSize (RFC 5681 §3.1); sender-side
    /// silly window avoidance (RFC 9293 §3.8.6.2.1) holds back small window-limited pieces,
    /// and Nagle (RFC 896) holds back small pieces while data is in flight unless `noDelay`.
    func dataSegmentLength() -> (Int, Bool)? {
        let offset = sendNext - sendBufferStart
        let unsent = sendBuffer.count - offset
        guard unsent >= 0 else { return nil }
        let usable = min(sendWindow, congestionWindow) - flightSize
        var length = max(0, min(unsent, sendMSS, usable))
        // Hold back a small window-limited piece only while data is in flight: its ACK will
        // bring a window update. With nothing in flight, waiting could deadlock against a
        // receiver whose whole buffer is smaller than a segment.
        if length > 0 && length < sendMSS && length < unsent && length < maximumSendWindow / 2 && flightSize > 0 {
            length = 0
        }
        if length > 0 && length < sendMSS && length == unsent && !configuration.noDelay && flightSize > 0 {
            length = 0
        }
        let fin = finQueued && offset + length == sendBuffer.count
            && (state == .finWait1 || state == .closing || state == .lastAck)
        if length == 0 && !fin { return nil }
        return (length, fin)
    }

    /// The first unacknowledged segment again, for fast retransmit and NewReno partial ACKs.
    private func fastRetransmitSegment(at now: NetInstant) -> TCPOutgoing? {
        let offset = sendUnacknowledged - sendBufferStart
        guard offset >= 0 else { return nil }
        let outstanding = min(sendBuffer.count, sendMaximum - sendBufferStart) - offset
        let length = max(0, min(outstanding, sendMSS))
        var flags: TCPFlags = [.ack]
        if let finSequence, finSent, sendUnacknowledged + length == finSequence { flags.insert(.fin) }
        guard length > 0 || flags.contains(.fin) else { return nil }
        return TCPOutgoing(repr: header(sequence: sendUnacknowledged, flags: flags, payloadLength: length, at: now),
                           payloadOffset: offset, kind: .fastRetransmit)
    }

    /// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, where SND.NXT is the highest sequence sent (after a
    /// timeout rewound SND.NXT for go-back-N, an ACK numbered below what the peer has received
    /// would be unacceptable to it, RFC 9293 §3.10.7.4 first step), but never past the right
    /// edge of the peer's window (Linux's tcp_acceptable_seq): a window probe the peer did not
    /// take counts in SND.MAX, and with its window shut an ACK numbered after it is dropped.
    private func bareACK(at now: NetInstant) -> TCPOutgoing {
        let edge = sendUnacknowledged + sendWindow
        let sequence = sendMaximum > edge ? edge : sendMaximum
        return TCPOutgoing(repr: header(sequence: sequence, flags: [.ack], payloadLength: 0, at: now), payloadOffset: 0,
                           kind: .normal)
    }

    /// SYN or SYN,ACK with our options: MSS (RFC 9293 §3.7.1), window scale (RFC 7323 §2.2,
    /// only in reply to a peer that offered it), timestamps (§3.2, likewise).
    private func synSegment(at now: NetInstant, acknowledging: Bool) -> TCPOutgoing {
        var options = TCPOptions(maximumSegmentSize: UInt16(clamping: localMSS))
        let offerScale = acknowledging ? windowScalingEnabled : configuration.windowScaling
        if offerScale { options.windowScale = receiveWindowShift }
        let offerTimestamps = acknowledging ? timestampsEnabled : configuration.timestamps
        if offerTimestamps {
            options.timestamps = TCPTimestamps(value: now.timestampClock, echoReply: acknowledging ? timestampRecent : 0)
        }
        let repr = TCPRepr(sourcePort: tuple.localPort, destinationPort: tuple.remotePort, sequenceNumber: iss,
                           acknowledgmentNumber: acknowledging ? receiveNext : SequenceNumber(0),
                           flags: acknowledging ? [.syn, .ack] : [.syn],
                           windowSize: UInt16(clamping: receiveBuffer.freeSpace), options: options)
        return TCPOutgoing(repr: repr, payloadOffset: 0, kind: .normal)
    }

    /// A segment header with ACK = RCV.NXT, our scaled window and, once agreed, timestamps.
    func header(sequence: SequenceNumber, flags: TCPFlags, payloadLength: Int, at now: NetInstant) -> TCPRepr {
        var options = TCPOptions()
        if timestampsEnabled {
            options.timestamps = TCPTimestamps(value: now.timestampClock, echoReply: timestampRecent)
        }
        return TCPRepr(sourcePort: tuple.localPort, destinationPort: tuple.remotePort, sequenceNumber: sequence,
                       acknowledgmentNumber: receiveNext, flags: flags, windowSize: advertisedWindowField,
                       options: options, payloadLength: payloadLength)
    }

    /// The window field: RCV.WND >> shift (RFC 7323 §2.3), at most 65535.
    var advertisedWindowField: UInt16 {
        UInt16(clamping: receiveWindow >> Int(receiveWindowShift))
    }

    /// Commits a segment that went out: advances SND.NXT, starts the timers, times the
    /// segment for RTT unless it is a retransmission (Karn's rule), and clears pending ACKs.
    /// Returns whether it was a retransmission.
    mutating func didTransmit(_ segment: TCPOutgoing, at now: NetInstant) -> Bool {
        let repr = segment.repr
        var retransmission = false
        switch segment.kind {
        case .fastRetransmit:
            fastRetransmitDue = false
            retransmission = true
            if let probe = rttProbe, probe.end > repr.sequenceNumber { rttProbe = nil }
            armRetransmitTimer(at: now)
        case .keepalive:
            keepaliveDue = false
        case .windowProbe:
            probeDue = false
            persistBackoff += 1
            let end = repr.sequenceNumber + repr.segmentLength
            if end > sendMaximum { sendMaximum = end }
        case .normal:
            let length = repr.segmentLength
            if length > 0 {
                let end = repr.sequenceNumber + length
                retransmission = repr.sequenceNumber < sendMaximum
                if retransmission {
                    if let probe = rttProbe, probe.end > repr.sequenceNumber { rttProbe = nil }
                } else if rttProbe == nil {
                    rttProbe = (end, now)
                }
                sendNext = end
                if end > sendMaximum { sendMaximum = end }
                armRetransmitTimer(at: now)
            }
        }
        if repr.flags.contains(.ack) {
            acknowledgeNow = false
            delayedACKDeadline = nil
            unacknowledgedBytes = 0
            lastAcknowledgmentSent = receiveNext
            let window = repr.flags.contains(.syn) ? Int(repr.windowSize) : Int(repr.windowSize) << Int(receiveWindowShift)
            let edge = receiveNext + window
            if edge > advertisedRightEdge { advertisedRightEdge = edge }
        }
        updatePersistTimer(at: now)
        return retransmission
    }
}
