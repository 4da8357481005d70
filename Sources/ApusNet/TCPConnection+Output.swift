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
        /// One segment from a hole the peer's SACK blocks show, resent during loss recovery
        /// without moving SND.NXT (RFC 6675 §5 `NextSeg`).
        case sackRetransmit
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
        if fastRetransmitDue {
            // The first hole from SND.UNA; without SACK information, one segment from it.
            let end = sackEnabled ? scoreboard.hole(from: sendUnacknowledged)?.right ?? sendMaximum : sendMaximum
            if let segment = retransmitSegment(from: sendUnacknowledged, upTo: end, kind: .fastRetransmit, at: now) {
                return segment
            }
        }
        if let hole = sackRetransmission(),
           let segment = retransmitSegment(from: hole.left, upTo: hole.right, kind: .sackRetransmit, at: now) {
            return segment
        }
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
        // In SACK loss recovery the congestion window bounds the bytes still in the network
        // (RFC 6675 `pipe`), not everything unacknowledged. Limited Transmit (RFC 3042): the
        // first two duplicate ACKs each let one new segment past cwnd, so a small window
        // still draws the three duplicates a fast retransmit needs instead of a timeout.
        let limitedTransmit = !inFastRecovery && sendNext == sendMaximum ? min(duplicateACKs, 2) * sendMSS : 0
        let usable = inSACKRecovery
            ? min(sendWindow - flightSize, congestionWindow - pipe)
            : min(sendWindow, congestionWindow + limitedTransmit) - flightSize
        var length = max(0, min(unsent, sendMSS, usable))
        // Resending after a timeout: stop at the next range the peer holds (`didTransmit` skips it).
        if sendNext < sendMaximum, let hole = scoreboard.hole(from: sendNext) {
            length = min(length, hole.right - sendNext)
        }
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

    /// Loss recovery driven by the peer's SACK blocks (RFC 6675 §5): both sides agreed SACK and
    /// a fast retransmit started it.
    var inSACKRecovery: Bool { sackEnabled && inFastRecovery }

    /// RFC 6675 `SetPipe`: the bytes still in the network during SACK recovery.
    var pipe: Int {
        scoreboard.pipe(unacknowledged: sendUnacknowledged, sent: sendNext, retransmittedEnd: retransmittedEnd,
                        segmentSize: sendMSS)
    }

    /// RFC 6675 `NextSeg` rules 1 and 3, when the congestion window has a segment's room over
    /// `pipe`: the first hole above HighRxt that counts as lost; else, when no new data can go
    /// (rule 2 comes first), the first hole above HighRxt at all. nil: send new data or nothing.
    func sackRetransmission() -> SACKScoreboard.Block? {
        guard inSACKRecovery, congestionWindow - pipe >= sendMSS,
              let hole = scoreboard.hole(from: max(retransmittedEnd, sendUnacknowledged)) else { return nil }
        if let lost = scoreboard.lossBoundary(segmentSize: sendMSS), hole.left < lost { return hole }
        return dataSegmentLength() == nil ? hole : nil
    }

    /// One segment of already-sent data from `start`, ending before `end`: fast retransmit,
    /// NewReno partial ACKs, SACK holes.
    private func retransmitSegment(from start: SequenceNumber, upTo end: SequenceNumber, kind: TCPOutgoing.Kind,
                                   at now: NetInstant) -> TCPOutgoing? {
        let offset = start - sendBufferStart
        guard offset >= 0 else { return nil }
        let outstanding = min(sendBuffer.count, sendMaximum - sendBufferStart) - offset
        let length = max(0, min(outstanding, sendMSS, end - start))
        var flags: TCPFlags = [.ack]
        if let finSequence, finSent, start + length == finSequence { flags.insert(.fin) }
        guard length > 0 || flags.contains(.fin) else { return nil }
        return TCPOutgoing(repr: header(sequence: start, flags: flags, payloadLength: length, at: now),
                           payloadOffset: offset, kind: kind)
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
    /// only in reply to a peer that offered it), timestamps (§3.2, likewise), SACK-permitted
    /// (RFC 2018 §2, likewise).
    private func synSegment(at now: NetInstant, acknowledging: Bool) -> TCPOutgoing {
        var options = TCPOptions(maximumSegmentSize: UInt16(clamping: localMSS))
        let offerScale = acknowledging ? windowScalingEnabled : configuration.windowScaling
        if offerScale { options.windowScale = receiveWindowShift }
        let offerTimestamps = acknowledging ? timestampsEnabled : configuration.timestamps
        if offerTimestamps {
            options.timestamps = TCPTimestamps(value: now.timestampClock, echoReply: acknowledging ? timestampRecent : 0)
        }
        options.sackPermitted = acknowledging ? sackEnabled : configuration.selectiveAcknowledgments
        let repr = TCPRepr(sourcePort: tuple.localPort, destinationPort: tuple.remotePort, sequenceNumber: iss,
                           acknowledgmentNumber: acknowledging ? receiveNext : SequenceNumber(0),
                           flags: acknowledging ? [.syn, .ack] : [.syn],
                           windowSize: UInt16(clamping: min(receiveBuffer.freeSpace, windowShare)), options: options)
        return TCPOutgoing(repr: repr, payloadOffset: 0, kind: .normal)
    }

    /// A segment header with ACK = RCV.NXT, our scaled window and, once agreed, timestamps and
    /// SACK blocks: as many as fit beside the payload within the segment size and the 40 bytes
    /// of options (three with timestamps, four without).
    func header(sequence: SequenceNumber, flags: TCPFlags, payloadLength: Int, at now: NetInstant) -> TCPRepr {
        var options = TCPOptions()
        if timestampsEnabled {
            options.timestamps = TCPTimestamps(value: now.timestampClock, echoReply: timestampRecent)
        }
        if sackEnabled && !reassembly.isEmpty && flags.contains(.ack) {
            let room = (sendMSS - payloadLength - 4) / 8
            options.sackBlocks = sackBlocks(maximum: min(room, timestampsEnabled ? 3 : SACKBlocks.capacity))
        }
        return TCPRepr(sourcePort: tuple.localPort, destinationPort: tuple.remotePort, sequenceNumber: sequence,
                       acknowledgmentNumber: receiveNext, flags: flags, windowSize: advertisedWindowField,
                       options: options, payloadLength: payloadLength)
    }

    /// What arrived beyond RCV.NXT, as RFC 2018 §4 orders it: first the range holding the
    /// newest out-of-order segment, then those holding the ones before it (so each range is
    /// reported in several ACKs, in case some are lost), then any other ranges, lowest first.
    func sackBlocks(maximum: Int) -> SACKBlocks {
        var blocks = SACKBlocks()
        guard maximum > 0 else { return blocks }
        func add(_ range: Range<Int>) -> Bool {
            let block = SACKBlock(left: receiveNext + range.lowerBound, right: receiveNext + range.upperBound)
            if !blocks.contains(block) { blocks.append(block) }
            return blocks.count < maximum
        }
        for start in recentOutOfOrder {
            let offset = receiveNext.distance(to: start)
            guard offset >= 0, let range = reassembly.ranges.first(where: { $0.contains(offset) }) else { continue }
            if !add(range) { return blocks }
        }
        for range in reassembly.ranges {
            if !add(range) { break }
        }
        return blocks
    }

    /// The window field: the offered window >> shift (RFC 7323 §2.3), at most 65535.
    var advertisedWindowField: UInt16 {
        UInt16(clamping: offeredWindow >> Int(receiveWindowShift))
    }

    /// Commits a segment that went out: advances SND.NXT, starts the timers, times the
    /// segment for RTT unless it is a retransmission (Karn's rule), and clears pending ACKs.
    /// Returns whether it was a retransmission.
    mutating func didTransmit(_ segment: TCPOutgoing, at now: NetInstant) -> Bool {
        let repr = segment.repr
        var retransmission = false
        switch segment.kind {
        case .fastRetransmit, .sackRetransmit:
            if segment.kind == .fastRetransmit { fastRetransmitDue = false }
            retransmission = true
            if let probe = rttProbe, probe.end > repr.sequenceNumber { rttProbe = nil }
            let end = repr.sequenceNumber + repr.segmentLength
            if end > retransmittedEnd { retransmittedEnd = end }
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
                // Go-back-N after a timeout steps over what the peer SACKed.
                while sendNext < sendMaximum, let held = scoreboard.blocks.first(where: { $0.left <= sendNext && sendNext < $0.right }) {
                    sendNext = held.right
                }
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
