import ApusWire

/// The neighbor cache (RFC 826 "Packet Reception", RFC 1122 §2.3.2): IPv4
/// next hops to MAC addresses, with expiry, plus the resolutions in flight
/// and the few packets waiting on each.
public struct ARPCache {
    enum State {
        case resolved(MACAddress)
        /// Resolution in flight: requests sent so far, when to send the next (or give up),
        /// and whole IPv4 packets waiting for the answer.
        case pending(requestsSent: Int, nextRequest: NetInstant, queued: [[UInt8]])
    }

    struct Entry {
        var state: State
        /// When a resolved entry stops being trusted.
        var expires: NetInstant
        /// When the entry was last learned or confirmed by traffic from its MAC.
        var confirmed = NetInstant.zero
    }

    private(set) var entries: [IPv4Address: Entry] = [:]
    private(set) var pendingCount = 0
    let configuration: ARPConfiguration

    init(configuration: ARPConfiguration) {
        self.configuration = configuration
    }

    /// The MAC for `address` if a live entry has one.
    public func lookup(_ address: IPv4Address, at now: NetInstant) -> MACAddress? {
        guard let entry = entries[address], case .resolved(let mac) = entry.state, now < entry.expires else { return nil }
        return mac
    }

    /// Whether any entry (resolved or pending) exists for `address`.
    func contains(_ address: IPv4Address) -> Bool { entries[address] != nil }

    /// Records `address` at `mac` (RFC 826 merge step). Returns the packets that were waiting.
    mutating func learn(_ address: IPv4Address, at mac: MACAddress, now: NetInstant) -> [[UInt8]] {
        var waiting: [[UInt8]] = []
        if let entry = entries[address], case .pending(_, _, let queued) = entry.state {
            waiting = queued
            pendingCount -= 1
        } else if entries[address] == nil {
            makeRoom(now: now)
        }
        entries[address] = Entry(state: .resolved(mac), expires: now + configuration.entryLifetime, confirmed: now)
        return waiting
    }

    /// Whether unsolicited ARP saying `address` is at `mac` must be ignored: the entry holds
    /// another MAC confirmed within the lock time.
    func isLocked(_ address: IPv4Address, against mac: MACAddress, at now: NetInstant) -> Bool {
        guard let entry = entries[address], case .resolved(let current) = entry.state, current != mac else { return false }
        return now < entry.expires && now - entry.confirmed < configuration.lockTime
    }

    /// Traffic arrived from `address` at `mac`: a resolved entry with that MAC is confirmed
    /// (and lives on); nothing is learned or changed from IP traffic.
    mutating func confirm(_ address: IPv4Address, at mac: MACAddress, now: NetInstant) {
        guard var entry = entries[address], case .resolved(let current) = entry.state, current == mac else { return }
        entry.confirmed = now
        entry.expires = now + configuration.entryLifetime
        entries[address] = entry
    }

    /// Starts resolving `address` unless it is resolved or already pending. Returns true when a
    /// new resolution started (the caller sends the first request at the next poll).
    @discardableResult
    mutating func startResolving(_ address: IPv4Address, now: NetInstant) -> Bool {
        if let entry = entries[address] {
            if case .pending = entry.state { return false }
            if now < entry.expires { return false }
            entries[address] = nil
        }
        makeRoom(now: now)
        entries[address] = Entry(state: .pending(requestsSent: 0, nextRequest: now, queued: []), expires: .distantFuture)
        pendingCount += 1
        return true
    }

    /// Queues a packet for `address`, which must be pending. Returns false when its queue is full.
    mutating func enqueue(_ packet: [UInt8], for address: IPv4Address) -> Bool {
        guard var entry = entries[address], case .pending(let sent, let next, var queued) = entry.state,
              queued.count < configuration.maximumQueuedPackets else { return false }
        entries[address] = nil  // keep the queue uniquely referenced while appending
        queued.append(packet)
        entry.state = .pending(requestsSent: sent, nextRequest: next, queued: queued)
        entries[address] = entry
        return true
    }

    /// Addresses whose next request (or final timeout) is due at `now`, in address order so
    /// runs are reproducible.
    func dueRequests(at now: NetInstant) -> [IPv4Address] {
        guard pendingCount > 0 else { return [] }
        var due: [IPv4Address] = []
        for (address, entry) in entries {
            if case .pending(_, let next, _) = entry.state, next <= now { due.append(address) }
        }
        return due.sorted()
    }

    enum RequestOutcome { case send, gaveUp(droppedPackets: Int) }

    /// Called for a due address: either the next request should go out now (and the retry
    /// is scheduled), or the requests ran out and the entry is removed.
    mutating func requestDue(_ address: IPv4Address, now: NetInstant) -> RequestOutcome {
        guard let entry = entries[address], case .pending(let sent, _, let queued) = entry.state else { return .send }
        if sent >= configuration.maximumRequests {
            entries[address] = nil
            pendingCount -= 1
            return .gaveUp(droppedPackets: queued.count)
        }
        return .send
    }

    /// Records that a request for `address` went out.
    mutating func requestSent(_ address: IPv4Address, now: NetInstant) {
        guard var entry = entries[address], case .pending(let sent, _, let queued) = entry.state else { return }
        entries[address] = nil
        entry.state = .pending(requestsSent: sent + 1, nextRequest: now + configuration.retryInterval, queued: queued)
        entries[address] = entry
    }

    /// The earliest pending request time.
    var nextDeadline: NetInstant {
        guard pendingCount > 0 else { return .distantFuture }
        var earliest = NetInstant.distantFuture
        for entry in entries.values {
            if case .pending(_, let next, _) = entry.state { earliest = min(earliest, next) }
        }
        return earliest
    }

    /// Drops expired entries, then the oldest if still full.
    private mutating func makeRoom(now: NetInstant) {
        guard entries.count >= configuration.maximumEntries else { return }
        entries = entries.filter { entry in
            if case .pending = entry.value.state { return true }
            return now < entry.value.expires
        }
        if entries.count >= configuration.maximumEntries,
           let oldest = entries.filter({ if case .resolved = $0.value.state { true } else { false } })
               .min(by: { $0.value.expires < $1.value.expires }) {
            entries[oldest.key] = nil
        }
    }
}
