import ApusWire

/// A received segment: its parsed header and a view of its payload in the frame.
struct TCPIncoming {
    var repr: TCPRepr
    var payload: UnsafeRawBufferPointer
}

extension TCPConnection {
    // MARK: Opening

    /// Active open (RFC 9293 §3.10.1): the SYN goes out at the next poll.
    mutating func open() {
        transition(.activeOpen)
    }

    /// A listener's new connection for `syn` (RFC 9293 §3.10.7.2): record the peer's
    /// sequence number and options, answer with SYN,ACK at the next poll.
    mutating func acceptSYN(_ syn: TCPRepr, at now: NetInstant) {
        applySYNOptions(syn.options, offered: true)
        synchronize(with: syn)
        sendWindow = Int(syn.windowSize)
        maximumSendWindow = sendWindow
        transition(.passiveSYN)
    }

    /// A connection rebuilt from a valid SYN cookie (RFC 4987 §3.6): the handshake is done,
    /// the options other than the MSS were not kept.
    mutating func acceptCookie(_ ack: TCPRepr, mss: Int, at now: NetInstant) {
        applySYNOptions(TCPOptions(maximumSegmentSize: UInt16(clamping: mss)), offered: false)
        initialReceiveSequence = ack.sequenceNumber - 1
        receiveNext = ack.sequenceNumber
        advertisedRightEdge = receiveNext
        lastAcknowledgmentSent = receiveNext
        sendUnacknowledged = iss + 1
        sendNext = iss + 1
        sendMaximum = iss + 1
        sendWindow = Int(ack.windowSize)
        maximumSendWindow = sendWindow
        sendWindowUpdateSequence = ack.sequenceNumber
        sendWindowUpdateAcknowledgment = ack.acknowledgmentNumber
        congestionWindow = initialCongestionWindow
        transition(.passiveSYN)
        transition(.synAcknowledged)
        notifications.insert(.established)
    }

    private mutating func synchronize(with syn: TCPRepr) {
        initialReceiveSequence = syn.sequenceNumber
        receiveNext = syn.sequenceNumber + 1
        advertisedRightEdge = receiveNext
        lastAcknowledgmentSent = receiveNext
        sendWindowUpdateSequence = syn.sequenceNumber
        if let timestamps = syn.options.timestamps, timestampsEnabled {
            timestampRecent = timestamps.value
            timestampRecentValid = true
        }
    }

    /// Agrees the options of a SYN: window scaling, timestamps and SACK only if both sides
    /// sent them (RFC 7323 §2.2, §3.2, RFC 2018 §2), the MSS the peer can take (RFC 9293 §3.7.1, 536 if absent),
    /// less the 12 bytes timestamps take from every segment.
    private mutating func applySYNOptions(_ options: TCPOptions, offered: Bool) {
        if configuration.windowScaling, let shift = options.windowScale {
            windowScalingEnabled = true
            sendWindowShift = shift
        } else {
            windowScalingEnabled = false
            sendWindowShift = 0
            receiveWindowShift = 0
        }
        timestampsEnabled = configuration.timestamps && options.timestamps != nil
        sackEnabled = configuration.selectiveAcknowledgments && options.sackPermitted
        let peerMSS = options.maximumSegmentSize.map(Int.init) ?? Self.defaultMSS
        sendMSS = max(min(peerMSS, localMSS) - (timestampsEnabled ? 12 : 0), 64)
        congestionWindow = initialCongestionWindow
    }

    // MARK: Segment arrival

    /// Processes one segment for this connection (RFC 9293 §3.10.7.3 in SYN-SENT, §3.10.7.4
    /// otherwise). In-order payload is offered to `deliver` first when nothing is buffered
    /// ahead of it; what it does not consume is copied into the receive buffer. Returns an
    /// RST to send in reply, if the RFC asks for one.
    mutating func process(_ segment: TCPIncoming, at now: NetInstant, statistics: inout NetStatistics,
                          memory: inout BufferMemory, deliver: (UnsafeRawBufferPointer) -> Int) -> TCPRepr? {
        switch state {
        case .closed, .listen:
            return nil
        case .synSent:
            return processInSYNSent(segment.repr, at: now)
        default:
            // Anything from the peer shows it is alive (RFC 1122 §4.2.3.6).
            keepaliveProbesSent = 0
            if let keepalive = configuration.keepalive, keepaliveDeadline != nil { keepaliveDeadline = now + keepalive.idle }
            let reply = processSynchronized(segment, at: now, statistics: &statistics, memory: &memory, deliver: deliver)
            if state == .timeWait && timeWaitDeadline == nil { enterTimeWait(at: now) }
            if let keepalive = configuration.keepalive, keepaliveDeadline == nil, state == .established || state == .closeWait {
                keepaliveDeadline = now + keepalive.idle
            }
            updatePersistTimer(at: now)
            return reply
        }
    }

    /// RFC 9293 §3.10.7.3.
    private mutating func processInSYNSent(_ segment: TCPRepr, at now: NetInstant) -> TCPRepr? {
        let flags = segment.flags
        // First: an ACK must acknowledge our SYN, else <SEQ=SEG.ACK><CTL=RST>.
        if flags.contains(.ack) {
            let acknowledgment = segment.acknowledgmentNumber
            if acknowledgment <= iss || acknowledgment > sendMaximum {
                return flags.contains(.rst) ? nil : resetReply(to: segment)
            }
        }
        // Second: RST, accepted only with an acceptable ACK (RFC 5961 §3.2 for SYN-SENT).
        if flags.contains(.rst) {
            if flags.contains(.ack) { transition(.reset) }
            return nil
        }
        // Fourth: SYN.
        guard flags.contains(.syn) else { return nil }
        applySYNOptions(segment.options, offered: true)
        synchronize(with: segment)
        sendWindow = Int(segment.windowSize)
        maximumSendWindow = sendWindow
        sendWindowUpdateSequence = segment.sequenceNumber
        if flags.contains(.ack) {
            let acknowledgment = segment.acknowledgmentNumber
            sendUnacknowledged = acknowledgment
            if sendNext < acknowledgment { sendNext = acknowledgment }
            sendWindowUpdateAcknowledgment = acknowledgment
            if let probe = rttProbe, acknowledgment >= probe.end { rtt.addSample(now - probe.sentAt) }
            rttProbe = nil
            retransmitDeadline = nil
            retransmitCount = 0
            transition(.receivedSYNACK)
            notifications.insert(.established)
            acknowledgeNow = true
        } else {
            // Simultaneous open: answer <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
            transition(.receivedSYN)
            sendNext = iss
            rttProbe = nil
            retransmitDeadline = nil
        }
        return nil
    }

    /// RFC 9293 §3.10.7.4 (SYN-RECEIVED and the synchronized states), with RFC 5961's checks.
    private mutating func processSynchronized(_ incoming: TCPIncoming, at now: NetInstant,
                                              statistics: inout NetStatistics, memory: inout BufferMemory,
                                              deliver: (UnsafeRawBufferPointer) -> Int) -> TCPRepr? {
        var segment = incoming.repr
        var payload = incoming.payload
        if state == .synReceived && segment.flags.contains(.syn) && segment.sequenceNumber == initialReceiveSequence {
            guard segment.flags.contains(.ack) else {
                // The peer's SYN again: our SYN,ACK was lost; send it again.
                sendNext = iss
                rttProbe = nil
                return nil
            }
            // Simultaneous open: the peer's SYN,ACK. Its SYN is already counted.
            segment.flags.remove(.syn)
            segment.sequenceNumber += 1
        }
        let flags = segment.flags

        // PAWS (RFC 7323 §5.3): a TSval older than TS.Recent marks an old duplicate.
        if timestampsEnabled, timestampRecentValid, !flags.contains(.rst), let timestamps = segment.options.timestamps,
           Int32(bitPattern: timestamps.value &- timestampRecent) < 0 {
            acknowledgeInvalidSegment(&statistics, at: now)
            return nil
        }

        // First: is the segment in the window?
        guard isAcceptable(segment, payloadLength: payload.count) else {
            if !flags.contains(.rst) {
                acknowledgeInvalidSegment(&statistics, at: now)
                if state == .timeWait && flags.contains(.fin) { enterTimeWait(at: now) }
            }
            return nil
        }
        // Second: RST. Only an exact match resets; anything else in the window gets a
        // challenge ACK (RFC 5961 §3.2).
        if flags.contains(.rst) {
            if segment.sequenceNumber == receiveNext {
                if state == .synReceived && isPassive {
                    // §3.10.7.4: a passive open returns to LISTEN; the listener never saw it.
                    returnedToListen = true
                    transition(.abort)
                } else {
                    transition(.reset)
                }
            } else {
                challengeACK(&statistics, at: now)
            }
            return nil
        }

        // Fourth: a SYN in a synchronized state is answered with a challenge ACK (RFC 5961 §4).
        if flags.contains(.syn) {
            challengeACK(&statistics, at: now)
            return nil
        }

        // Fifth: ACK. A segment without it is dropped (RFC 9293 §3.10.7.4).
        guard flags.contains(.ack) else { return nil }
        let acknowledgment = segment.acknowledgmentNumber
        if acknowledgment > sendMaximum {
            // It acknowledges something not yet sent: ACK and drop (RFC 9293 §3.10.7.4, RFC 5961 §5.2).
            challengeACK(&statistics, at: now)
            return nil
        }
        if acknowledgment < sendUnacknowledged - maximumSendWindow {
            // RFC 5961 §5.2: too old to be a duplicate of anything we sent.
            challengeACK(&statistics, at: now)
            return nil
        }
        // Only now, with the RST, SYN and ACK checks passed, may the segment's timestamp become
        // TS.Recent (RFC 7323 §4.3, §5.3): a forged segment dropped above must not move it, or
        // a future TSval would make PAWS reject every genuine segment after it.
        if let timestamps = segment.options.timestamps, timestampsEnabled,
           segment.sequenceNumber <= lastAcknowledgmentSent,
           !timestampRecentValid || Int32(bitPattern: timestamps.value &- timestampRecent) >= 0 {
            timestampRecent = timestamps.value
            timestampRecentValid = true
        }
        if state == .synReceived {
            guard sendUnacknowledged < acknowledgment else { return resetReply(to: segment) }
            transition(.synAcknowledged)
            notifications.insert(.established)
            sendWindowUpdateSequence = segment.sequenceNumber - 1
            congestionWindow = initialCongestionWindow
        }
        processACK(segment, payloadLength: payload.count, at: now, memory: &memory)
        if state == .closed { return nil }

        // Sixth (URG) is not supported; seventh: text.
        if !payload.isEmpty && state.acceptsText {
            let skip = max(0, segment.sequenceNumber.distance(to: receiveNext))
            payload = UnsafeRawBufferPointer(rebasing: payload[min(skip, payload.count)...])
            let start = segment.sequenceNumber + skip
            receiveText(payload, at: start, now: now, statistics: &statistics, memory: &memory, deliver: deliver)
        }

        // Eighth: FIN, once everything before it has arrived.
        if flags.contains(.fin) && segment.sequenceNumber + incoming.payload.count == receiveNext && !finReceived {
            receiveNext += 1
            finReceived = true
            acknowledgeNow = true
            if !readableSignalled {
                readableSignalled = true
                notifications.insert(.readable)
            }
            transition(.receivedFIN)
        }
        return nil
    }

    /// RFC 9293 §3.10.7.4 first step: the four cases of segment acceptability.
    private func isAcceptable(_ segment: TCPRepr, payloadLength: Int) -> Bool {
        let length = payloadLength + (segment.flags.contains(.syn) ? 1 : 0) + (segment.flags.contains(.fin) ? 1 : 0)
        let window = receiveWindow
        let start = segment.sequenceNumber
        let windowEnd = receiveNext + window
        func inWindow(_ sequence: SequenceNumber) -> Bool { receiveNext <= sequence && sequence < windowEnd }
        switch (length, window) {
        case (0, 0): return start == receiveNext
        case (0, _): return inWindow(start)
        case (_, 0): return false
        default: return inWindow(start) || inWindow(start + (length - 1))
        }
    }

    /// RFC 9293 §3.10.7.4 fifth step for the synchronized states: advance SND.UNA, sample the
    /// RTT, drive congestion control, update the send window, and notice our FIN's ACK.
    private mutating func processACK(_ segment: TCPRepr, payloadLength: Int, at now: NetInstant,
                                     memory: inout BufferMemory) {
        let acknowledgment = segment.acknowledgmentNumber
        let window = Int(segment.windowSize) << Int(sendWindowShift)
        let advanced = sendUnacknowledged < acknowledgment
        if advanced {
            let acknowledged = acknowledgment - sendUnacknowledged
            let dataAcknowledged = min(max(acknowledgment - sendBufferStart, 0), sendBuffer.count)
            sendBuffer.removeFirst(dataAcknowledged)
            sendBuffer.releaseIfDrained(memory: &memory)
            sendBufferStart += dataAcknowledged
            sendUnacknowledged = acknowledgment
            if sendNext < acknowledgment { sendNext = acknowledgment }
            if let probe = rttProbe, acknowledgment >= probe.end {
                rtt.addSample(now - probe.sentAt)
                rttProbe = nil
            }
            rtt.backoff = 0
            retransmitCount = 0
            persistBackoff = 0
            restartRetransmitTimer(at: now)
            growCongestionWindow(acknowledged: acknowledged, acknowledgment: acknowledgment)
            if dataAcknowledged > 0 && writerWaiting {
                writerWaiting = false
                notifications.insert(.writable)
            }
            if finAcknowledged { transition(.finAcknowledged) }
            scoreboard.removeAll(below: sendUnacknowledged)
            if retransmittedEnd < sendUnacknowledged { retransmittedEnd = sendUnacknowledged }
        }
        let newlySACKed = recordSACKBlocks(segment.options.sackBlocks)
        // RFC 5681 §2's duplicate: no data, no window change, no FIN. A zero window's answers to
        // our probes repeat the same ACK: that is a full receiver, not loss, and must not trigger
        // fast retransmit (the duplicates assume data the peer could have taken). With SACK, an
        // ACK reporting data not SACKed before is a duplicate whatever it carries (RFC 6675 §2),
        // which counts the ACKs riding on the peer's own data too.
        if !advanced && acknowledgment == sendUnacknowledged && sendMaximum > sendUnacknowledged
            && (newlySACKed || (payloadLength == 0 && window > 0 && !segment.flags.contains(.fin) && window == sendWindow)) {
            duplicateACK(acknowledgment: acknowledgment)
        }
        if sendWindowUpdateSequence < segment.sequenceNumber
            || (sendWindowUpdateSequence == segment.sequenceNumber && sendWindowUpdateAcknowledgment <= acknowledgment) {
            sendWindow = window
            sendWindowUpdateSequence = segment.sequenceNumber
            sendWindowUpdateAcknowledgment = acknowledgment
            maximumSendWindow = max(maximumSendWindow, window)
        }
        if newlySACKed { startRecoveryIfLost() }
    }

    /// In-order text goes to `deliver` (if nothing is buffered) or the receive buffer, and
    /// pulls in any out-of-order data it joins; out-of-order text is written into the buffer's
    /// free space at its offset and recorded. ACK policy: RFC 5681 §4.2 and RFC 9293
    /// §3.8.6.3 (immediately for out-of-order data or a filled hole, otherwise at least every
    /// second full-sized segment, within `delayedACKTimeout`).
    private mutating func receiveText(_ payload: UnsafeRawBufferPointer, at start: SequenceNumber, now: NetInstant,
                                      statistics: inout NetStatistics, memory: inout BufferMemory,
                                      deliver: (UnsafeRawBufferPointer) -> Int) {
        let offset = receiveNext.distance(to: start)
        let room = receiveBuffer.freeSpace - offset
        let length = min(payload.count, max(room, 0))
        guard length > 0 else {
            acknowledgeNow = true
            return
        }
        let bytes = UnsafeRawBufferPointer(rebasing: payload[..<length])
        if offset > 0 {
            // Out-of-order bytes need storage up to their end; without budget for it they are
            // dropped unacknowledged, and the peer sends them again.
            guard receiveBuffer.reserve(upTo: receiveBuffer.count + offset + length, memory: &memory) else {
                statistics.tcpDroppedNoMemory += 1
                acknowledgeNow = true
                return
            }
            receiveBuffer.write(bytes, atOffsetPastTail: offset)
            if reassembly.insert(offset..<(offset + length)) {
                statistics.tcpOutOfOrderQueued += 1
                if sackEnabled {
                    if recentOutOfOrder.count == SACKBlocks.capacity { recentOutOfOrder.removeLast() }
                    recentOutOfOrder.insert(start, at: 0)
                }
            } else {
                statistics.tcpOutOfOrderDropped += 1
            }
            acknowledgeNow = true
            return
        }
        let hadHoles = !reassembly.isEmpty
        var delivered = 0
        if receiveBuffer.isEmpty && !hadHoles {
            delivered = deliver(bytes)
            precondition(delivered >= 0 && delivered <= length, "delivered more than was offered")
        }
        var accepted = length
        if delivered < length {
            // What the application did not take waits in the buffer, if the budget pays for it;
            // otherwise only what was delivered is acknowledged.
            if receiveBuffer.reserve(upTo: receiveBuffer.count + length - delivered, memory: &memory) {
                let rest = UnsafeRawBufferPointer(rebasing: bytes[delivered...])
                receiveBuffer.write(rest, atOffsetPastTail: 0)
                receiveBuffer.commit(rest.count)
            } else {
                statistics.tcpDroppedNoMemory += 1
                accepted = delivered
                acknowledgeNow = true
                guard accepted > 0 else { return }
            }
        }
        let joined = reassembly.advance(by: accepted)
        receiveBuffer.commit(joined)
        receiveNext += accepted + joined
        if hadHoles && reassembly.isEmpty { recentOutOfOrder.removeAll(keepingCapacity: true) }
        if hadHoles {
            acknowledgeNow = true
        } else {
            unacknowledgedBytes += accepted
            if unacknowledgedBytes >= 2 * sendMSS {
                acknowledgeNow = true
            } else if delayedACKDeadline == nil {
                delayedACKDeadline = now + configuration.delayedACKTimeout
            }
        }
        if !receiveBuffer.isEmpty && !readableSignalled {
            readableSignalled = true
            notifications.insert(.readable)
        }
    }

    /// A challenge ACK (RFC 5961 §3.2, §4, §5.2), within the connection's per-second budget (§7).
    private mutating func challengeACK(_ statistics: inout NetStatistics, at now: NetInstant) {
        if now - challengeWindowStart >= .seconds(1) {
            challengeWindowStart = now
            challengeACKsInWindow = 0
        }
        guard challengeACKsInWindow < configuration.challengeACKsPerSecond else {
            statistics.tcpChallengeACKsSuppressed += 1
            return
        }
        challengeACKsInWindow += 1
        statistics.tcpChallengeACKs += 1
        acknowledgeNow = true
    }

    /// The ACK RFC 9293 §3.10.7.4 sends for an unacceptable segment, at most one per
    /// `invalidSegmentACKInterval`.
    private mutating func acknowledgeInvalidSegment(_ statistics: inout NetStatistics, at now: NetInstant) {
        if let last = lastInvalidSegmentACK, now - last < configuration.invalidSegmentACKInterval {
            statistics.tcpInvalidSegmentACKsSuppressed += 1
            return
        }
        lastInvalidSegmentACK = now
        acknowledgeNow = true
    }

    private mutating func enterTimeWait(at now: NetInstant) {
        timeWaitDeadline = now + configuration.timeWaitDuration
        retransmitDeadline = nil
        persistDeadline = nil
        delayedACKDeadline = nil
    }

    /// The RST for an unacceptable ACK: <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.3, §3.10.7.4).
    private func resetReply(to segment: TCPRepr) -> TCPRepr {
        TCPRepr(sourcePort: tuple.localPort, destinationPort: tuple.remotePort,
                sequenceNumber: segment.acknowledgmentNumber, flags: [.rst], windowSize: 0)
    }

    // MARK: Application calls

    /// Queues as much of `bytes` as fits; returns how much.
    mutating func write(_ bytes: UnsafeRawBufferPointer, memory: inout BufferMemory) -> Int {
        let written = sendBuffer.append(bytes, memory: &memory)
        if written < bytes.count { writerWaiting = true }
        return written
    }

    /// Lends the contiguous free send-buffer space to `body`, which encodes into it.
    mutating func writeInPlace(maximumLength: Int, memory: inout BufferMemory,
                               _ body: (UnsafeMutableRawBufferPointer) -> Int) -> Int {
        let written = sendBuffer.appendInPlace(maximumLength: maximumLength, memory: &memory, body)
        if written < min(maximumLength, 1) || sendBuffer.freeSpace == 0 { writerWaiting = true }
        return written
    }

    /// Reads into `destination`; returns the bytes copied.
    mutating func read(into destination: UnsafeMutableRawBufferPointer, memory: inout BufferMemory) -> Int {
        let length = min(destination.count, receiveBuffer.count)
        receiveBuffer.copy(fromOffset: 0, into: UnsafeMutableRawBufferPointer(rebasing: destination[..<length]))
        receiveBuffer.removeFirst(length)
        didRead(memory: &memory)
        return length
    }

    /// Moves up to `maximumLength` received bytes into this connection's own send buffer, ring
    /// to ring (an echo); returns how many.
    mutating func spliceToSendBuffer(maximumLength: Int, memory: inout BufferMemory) -> Int {
        let moved = ByteRing.move(from: &receiveBuffer, to: &sendBuffer, maximumLength: maximumLength, memory: &memory)
        didRead(memory: &memory)
        didSpliceIn(moved, maximumLength: maximumLength)
        return moved
    }

    /// `moved` of `maximumLength` bytes were spliced into the send buffer: `.writable` is owed
    /// when it filled up first.
    mutating func didSpliceIn(_ moved: Int, maximumLength: Int) {
        if moved < maximumLength && sendBuffer.freeSpace == 0 { writerWaiting = true }
    }

    /// Lends the contiguous readable bytes to `body`, which returns how many it consumed.
    mutating func readInPlace(memory: inout BufferMemory, _ body: (UnsafeRawBufferPointer) -> Int) -> Int {
        let consumed = receiveBuffer.consumeInPlace(body)
        didRead(memory: &memory)
        return consumed
    }

    /// The application made room: announce a window that grew by at least two segments or
    /// half the buffer (receiver silly window avoidance, RFC 9293 §3.8.6.2.2).
    mutating func didRead(memory: inout BufferMemory) {
        readableSignalled = false
        if reassembly.isEmpty { receiveBuffer.releaseIfDrained(memory: &memory) }
        guard state.isSynchronized, !finReceived else { return }
        let promised = advertisedRightEdge - receiveNext
        let available = (min(receiveBuffer.freeSpace, windowShare) >> Int(receiveWindowShift)) << Int(receiveWindowShift)
        if available - promised >= min(receiveBuffer.capacity / 2, 2 * sendMSS) { acknowledgeNow = true }
    }

    /// CLOSE (RFC 9293 §3.10.4): queue the FIN after the data.
    mutating func close() {
        guard !finQueued else { return }
        switch state {
        case .synReceived, .established, .closeWait:
            finQueued = true
        default:
            break
        }
        transition(.close)
    }

    /// ABORT (RFC 9293 §3.10.5): <SEQ=SND.NXT><CTL=RST> in the states that have told the peer
    /// anything, then CLOSED.
    mutating func abort() -> TCPRepr? {
        let reset: TCPRepr? = switch state {
        case .synReceived, .established, .finWait1, .finWait2, .closeWait:
            TCPRepr(sourcePort: tuple.localPort, destinationPort: tuple.remotePort, sequenceNumber: sendNext,
                    flags: [.rst], windowSize: 0)
        default: nil
        }
        transition(.abort)
        return reset
    }
}
