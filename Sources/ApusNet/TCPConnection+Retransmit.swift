import ApusWire

/// The retransmission timeout estimator of RFC 6298 §2.
struct RTTEstimator {
    private(set) var smoothedRTT: NetDuration?
    private(set) var rttVariance = NetDuration.zero
    /// The RTO before backoff.
    private(set) var baseRTO: NetDuration
    /// Exponent of the backoff (RFC 6298 §5.5), reset when an ACK makes progress.
    var backoff = 0
    let minimum: NetDuration
    let maximum: NetDuration

    /// RFC 6298 §2: G, the clock granularity. The caller's clock is finer; 1 ms keeps a
    /// variance of zero from producing an RTO equal to SRTT.
    static let granularity = NetDuration.milliseconds(1)

    init(configuration: TCPConfiguration) {
        baseRTO = configuration.initialRTO
        minimum = configuration.minimumRTO
        maximum = configuration.maximumRTO
    }

    /// The RTO clamped to the configured minimum, then backed off (RFC 6298 §5.5), at most
    /// the maximum.
    var rto: NetDuration {
        min(max(baseRTO, minimum) * Int64(1 << min(backoff, 30)), maximum)
    }

    /// RFC 6298 §2.2 (first sample) and §2.3 (later samples), with α = 1/8, β = 1/4.
    mutating func addSample(_ sample: NetDuration) {
        let sample = max(sample, .zero)
        if let smoothed = smoothedRTT {
            let error = NetDuration(nanoseconds: abs((smoothed - sample).nanoseconds))
            rttVariance = rttVariance * 3 / 4 + error / 4
            smoothedRTT = smoothed * 7 / 8 + sample / 8
        } else {
            smoothedRTT = sample
            rttVariance = sample / 2
        }
        baseRTO = smoothedRTT! + max(Self.granularity, rttVariance * 4)
        backoff = 0
    }
}

extension TCPConnection {
    /// Runs every timer that is due at `now`. RFC 6298 §5 (retransmission), RFC 9293
    /// §3.8.6.1 (zero-window probes), §3.8.6.3 (delayed ACK), §3.10.8 (TIME-WAIT). Returns
    /// whether the retransmission timer expired.
    @discardableResult
    mutating func handleTimers(at now: NetInstant) -> Bool {
        if let deadline = timeWaitDeadline, deadline <= now {
            timeWaitDeadline = nil
            transition(.timeWaitExpired)
            return false
        }
        if let deadline = delayedACKDeadline, deadline <= now {
            delayedACKDeadline = nil
            acknowledgeNow = true
        }
        var timedOut = false
        if let deadline = retransmitDeadline, deadline <= now {
            retransmissionTimeout(at: now)
            timedOut = true
        }
        if let deadline = persistDeadline, deadline <= now {
            persistDeadline = nil
            // A peer that answers every probe with a zero window would hold our queued data
            // (and the connection) forever; like a retransmission, a probe has a limit.
            guard persistBackoff < configuration.maximumRetransmissions else {
                transition(.timeout)
                return timedOut
            }
            probeDue = true
        }
        handleKeepalive(at: now)
        return timedOut
    }

    /// RFC 1122 §4.2.3.6: after `idle` with nothing heard, probe with SEG.SEQ = SND.UNA − 1
    /// (the peer must ACK it); after `probes` unanswered probes, drop the connection. While
    /// data is outstanding the retransmission timer watches the peer instead.
    private mutating func handleKeepalive(at now: NetInstant) {
        guard let keepalive = configuration.keepalive else { return }
        guard state == .established || state == .closeWait else {
            keepaliveDeadline = nil
            return
        }
        guard let deadline = keepaliveDeadline else {
            keepaliveDeadline = now + keepalive.idle
            return
        }
        guard deadline <= now else { return }
        if sendUnacknowledged != sendMaximum || hasSendableData {
            keepaliveDeadline = now + keepalive.idle
            return
        }
        if keepaliveProbesSent >= keepalive.probes {
            transition(.timeout)
            return
        }
        keepaliveProbesSent += 1
        keepaliveDue = true
        keepaliveDeadline = now + keepalive.interval
    }

    /// RFC 6298 §5.4–5.6: retransmit from SND.UNA, back off the timer; RFC 5681 §3.1
    /// eqn. 4: halve ssthresh and drop to one segment (the loss window).
    private mutating func retransmissionTimeout(at now: NetInstant) {
        retransmitDeadline = nil
        let limit = switch state {
        case .synReceived where halfOpenUnderPressure: min(1, configuration.maximumSYNRetransmissions)
        case .synSent, .synReceived: configuration.maximumSYNRetransmissions
        default: configuration.maximumRetransmissions
        }
        guard retransmitCount < limit else {
            // A passive open that never completed is dropped silently: the application never saw it.
            if isPassive && state == .synReceived { returnedToListen = true }
            transition(.timeout)
            return
        }
        retransmitCount += 1
        rtt.backoff += 1
        if retransmitCount == 1 {
            slowStartThreshold = max(flightSize / 2, 2 * sendMSS)
        }
        congestionWindow = sendMSS
        inFastRecovery = false
        fastRetransmitDue = false
        duplicateACKs = 0
        // RFC 6582 §3.2 step 4: after a timeout, dup ACKs for data sent before it must not
        // start another fast retransmit.
        recover = sendMaximum
        rttProbe = nil
        sendNext = sendUnacknowledged
        retransmittedEnd = sendUnacknowledged
        // The go-back-N that follows skips what the peer SACKed (RFC 6675 §5.1 lets the
        // sender keep it). A receiver may renege on SACKed data, though (RFC 2018 §8): a second
        // timeout without progress forgets the scoreboard, so such a peer gets everything again.
        if retransmitCount > 1 { scoreboard.removeAll() }
    }

    /// Starts the retransmission timer unless it runs (RFC 6298 §5.1).
    mutating func armRetransmitTimer(at now: NetInstant) {
        if retransmitDeadline == nil { retransmitDeadline = now + rtt.rto }
    }

    /// RFC 6298 §5.2/5.3 after an ACK of new data: stop the timer when nothing is
    /// outstanding, else restart it.
    mutating func restartRetransmitTimer(at now: NetInstant) {
        retransmitDeadline = sendUnacknowledged == sendMaximum ? nil : now + rtt.rto
    }

    /// RFC 9293 §3.8.6.1: with data waiting, nothing in flight and a zero window, probe the
    /// window on the retransmission timer's schedule, backing off like it (at most the maximum
    /// RTO apart); after `maximumRetransmissions` probes that did not open it, give up.
    mutating func updatePersistTimer(at now: NetInstant) {
        let unsent = sendBuffer.count - (sendNext - sendBufferStart)
        let needsProbe = state.isSynchronized && sendWindow == 0 && (unsent > 0 || (finQueued && !finSent))
            && sendNext == sendUnacknowledged && retransmitDeadline == nil
        if needsProbe {
            if persistDeadline == nil && !probeDue {
                persistDeadline = now + min(rtt.rto * Int64(1 << min(persistBackoff, 10)), configuration.maximumRTO)
            }
        } else {
            persistDeadline = nil
            probeDue = false
            persistBackoff = 0
        }
    }

    /// New data acknowledged: RFC 5681 §3.1 (slow start, congestion avoidance) and RFC 6582
    /// §3.2 steps 3 and 5 (NewReno partial and full ACKs). In SACK recovery a partial ACK
    /// changes nothing here: `pipe` and the scoreboard decide what goes next (RFC 6675 §5).
    mutating func growCongestionWindow(acknowledged: Int, acknowledgment: SequenceNumber) {
        if inFastRecovery {
            if acknowledgment >= recover {
                // Full ACK: deflate to ssthresh (RFC 6582 step 3, option 1 bounded by FlightSize).
                congestionWindow = min(slowStartThreshold, max(flightSize, sendMSS) + sendMSS)
                inFastRecovery = false
                duplicateACKs = 0
            } else if !sackEnabled {
                // Partial ACK: resend the next hole, deflate by what was acked, add one segment.
                fastRetransmitDue = true
                congestionWindow = max(congestionWindow - acknowledged, 0) + (acknowledged >= sendMSS ? sendMSS : 0)
                congestionWindow = max(congestionWindow, sendMSS)
            }
            return
        }
        duplicateACKs = 0
        if congestionWindow < slowStartThreshold {
            congestionWindow += min(acknowledged, sendMSS)
        } else {
            congestionWindow += max(1, sendMSS * sendMSS / congestionWindow)
        }
    }

    /// A duplicate ACK (RFC 5681 §2 definition): RFC 5681 §3.2 fast retransmit on the third,
    /// guarded by RFC 6582 §3.2 step 2 (`recover`), and window inflation after it (not with
    /// SACK, whose `pipe` counts what left the network instead).
    mutating func duplicateACK(acknowledgment: SequenceNumber) {
        duplicateACKs += 1
        if inFastRecovery {
            if !sackEnabled { congestionWindow += sendMSS }
        } else if duplicateACKs == SACKScoreboard.duplicateThreshold && acknowledgment > recover {
            enterLossRecovery()
        }
    }

    /// RFC 5681 §3.2 / RFC 6582 §3.2 fast retransmit and recovery, or with SACK RFC 6675 §5
    /// step 4: ssthresh = cwnd = FlightSize / 2 (no inflation), RecoveryPoint = HighData,
    /// and the segment at SND.UNA resent first.
    mutating func enterLossRecovery() {
        slowStartThreshold = max(flightSize / 2, 2 * sendMSS)
        recover = sendMaximum
        congestionWindow = sackEnabled ? slowStartThreshold : slowStartThreshold + 3 * sendMSS
        retransmittedEnd = sendUnacknowledged
        inFastRecovery = true
        fastRetransmitDue = true
    }

    /// The SACK blocks of an acceptable ACK (RFC 2018 §5): blocks inside SND.UNA ..< SND.MAX
    /// go on the scoreboard; others (D-SACK reports of duplicates, RFC 2883, or nonsense) are
    /// ignored. Returns whether they told anything new.
    mutating func recordSACKBlocks(_ blocks: SACKBlocks) -> Bool {
        guard sackEnabled else { return false }
        var new = false
        for block in blocks where sendUnacknowledged <= block.left && block.right <= sendMaximum {
            if scoreboard.insert(left: block.left, right: block.right) { new = true }
        }
        return new
    }

    /// With DupThresh segments SACKed above SND.UNA, loss recovery starts even before three
    /// duplicate ACKs (RFC 6675 §5 step 4, `IsLost(HighACK + 1)`).
    mutating func startRecoveryIfLost() {
        if !inFastRecovery, sendUnacknowledged > recover, let lost = scoreboard.lossBoundary(segmentSize: sendMSS),
           sendUnacknowledged < lost {
            enterLossRecovery()
        }
    }
}
