/// The balancing decisions of `LoadBalancer`, sans-IO: the current endpoint
/// set, calls in flight per endpoint, outlier ejection and probing, and the
/// policy's pick. Fed endpoint sets, call outcomes and the time; owns no
/// transport, clock or lock (the class around it does), so tests drive it
/// call by call with synthetic time.
package struct BalancerCore: Sendable {
    package struct Member: Sendable {
        package var endpoint: Endpoint
        /// `endpoint.id`, made once (not a string built per pick).
        package let id: String
        package var inFlight = 0
        /// Calls finished through it, and of those the ones it failed (refused, lost, timed out).
        package var calls = 0
        package var failures = 0
        /// When its ejection ends; nil while it is in the set's rotation.
        package var ejectedUntil: Duration?
        var consecutiveFailures = 0
        /// Ejections in a row, for the growing backoff.
        var ejections = 0
        /// The one call let through after an ejection is out: no other goes there meanwhile.
        var probing = false
        /// Smooth weighted round robin's running weight.
        var currentWeight = 0

        init(_ endpoint: Endpoint) {
            self.endpoint = endpoint
            self.id = endpoint.id
        }
    }

    /// How a call through an endpoint ended, for its health.
    package enum Outcome: Sendable, Equatable {
        /// The server answered (a reply, a declared exception, an application error).
        case answered
        /// The endpoint failed it: refused or lost the connection, or let it time out.
        case endpointFault
        /// Nothing was learned (the caller cancelled).
        case abandoned
    }

    /// The endpoint chosen for one call.
    package struct Pick: Sendable, Equatable {
        package var id: String
        /// The first call after an ejection ran out: its outcome decides whether the endpoint is back.
        package var isProbe: Bool
        /// Where it was in `members` when picked (checked against `id`: the set may have changed).
        package var index = -1

        package init(id: String, isProbe: Bool, index: Int = -1) {
            self.id = id
            self.isProbe = isProbe
            self.index = index
        }

        package static func == (a: Pick, b: Pick) -> Bool { a.id == b.id && a.isProbe == b.isProbe }
    }

    /// Why no endpoint could be picked.
    package enum NoPick: Error, Equatable {
        /// The set is empty.
        case empty
        /// Every endpoint is ejected; the earliest ejection ends at this time.
        case allEjected(until: Duration)
        /// Every usable endpoint was already tried for this call.
        case allTried
    }

    package let policy: LoadBalancingPolicy
    package let ejection: OutlierEjection
    package private(set) var members: [Member] = []
    private var indexByID: [String: Int] = [:]
    private var ring = HashRing()
    /// Endpoints that left the set while calls were in flight on them: id → those calls.
    package private(set) var retiring: [String: Int] = [:]
    /// What endpoints that left the set did while in it (and their calls that ended after), so a
    /// report over a run counts every call; an endpoint that comes back takes its counts along.
    package private(set) var departed: [String: Member] = [:]
    private var randomState: UInt64
    /// Members with an ejection set (over or not): while none is, picks need no clock.
    package private(set) var ejectedCount = 0

    package init(policy: LoadBalancingPolicy, ejection: OutlierEjection, seed: UInt64 = .random(in: .min ... .max)) {
        self.policy = policy
        self.ejection = ejection
        self.randomState = seed
    }

    package var endpoints: [Endpoint] { members.map(\.endpoint) }

    // MARK: Endpoint sets

    /// What changed for the transports when a new set arrived.
    package struct Changes: Sendable, Equatable {
        /// New endpoints: make a transport for each.
        package var added: [Endpoint] = []
        /// Endpoints gone with no call in flight: close their transports now.
        package var closeNow: [String] = []
        /// Endpoints that came back while their transports were still finishing calls: keep those.
        package var revived: [String] = []
    }

    /// Makes `endpoints` the set (the last entry wins among equal ids). Endpoints that stay keep
    /// their health and calls in flight, and take the new weight; endpoints that leave with
    /// calls in flight retire, and their transports close when the last call ends.
    package mutating func update(_ endpoints: [Endpoint]) -> Changes {
        var byID: [String: Endpoint] = [:]
        for endpoint in endpoints { byID[endpoint.id] = endpoint }
        var changes = Changes()
        var next: [Member] = []
        for id in byID.keys.sorted() {
            let endpoint = byID[id]!
            if let old = indexByID[id] {
                var member = members[old]
                member.endpoint = endpoint
                next.append(member)
            } else {
                var member = Member(endpoint)
                if let gone = departed.removeValue(forKey: id) {
                    member.calls = gone.calls
                    member.failures = gone.failures
                }
                if let inFlight = retiring.removeValue(forKey: id) {
                    member.inFlight = inFlight
                    changes.revived.append(id)
                } else {
                    changes.added.append(endpoint)
                }
                next.append(member)
            }
        }
        for member in members where byID[member.id] == nil {
            departed[member.id] = member
            if member.inFlight > 0 {
                retiring[member.id] = member.inFlight
            } else {
                changes.closeNow.append(member.id)
            }
        }
        members = next
        ejectedCount = members.reduce(0) { $0 + ($1.ejectedUntil != nil ? 1 : 0) }
        indexByID = Dictionary(uniqueKeysWithValues: members.enumerated().map { ($1.id, $0) })
        ring = policy == .consistentHash ? HashRing(members.map { ($0.id, $0.endpoint.weight) }) : HashRing()
        return changes
    }

    // MARK: Calls

    /// Picks the endpoint for a call (`key`: the hash of its balancing key), skipping ejected
    /// endpoints and those in `tried`, and counts the call in flight there.
    package mutating func pick(key: UInt64?, tried: [String] = [], now: Duration) -> Result<Pick, NoPick> {
        guard !members.isEmpty else { return .failure(.empty) }
        let chosen: Int?
        switch policy {
        case .roundRobin: chosen = pickRoundRobin(tried: tried, now: now)
        case .powerOfTwoChoices: chosen = pickTwoChoices(tried: tried, now: now)
        case .consistentHash:
            if let key {
                chosen = ring.owner(of: key) { usable($0, tried: tried, now: now) }
            } else {
                chosen = pickTwoChoices(tried: tried, now: now)
            }
        }
        guard let index = chosen else {
            // Nothing usable: every endpoint not tried yet is ejected (or being probed).
            let untried = members.filter { !tried.contains($0.id) }
            guard !untried.isEmpty else { return .failure(.allTried) }
            return .failure(.allEjected(until: untried.compactMap(\.ejectedUntil).min() ?? now))
        }
        members[index].inFlight += 1
        let isProbe = members[index].ejectedUntil != nil
        if isProbe { members[index].probing = true }
        return .success(Pick(id: members[index].id, isProbe: isProbe, index: index))
    }

    /// What a finished call changed, for the transport and the log.
    package struct Finished: Sendable, Equatable {
        /// It was the last call of an endpoint that left the set: close its transport now.
        package var closeTransport = false
        /// The endpoint was just ejected, for this long.
        package var ejectedFor: Duration?
        /// A probe succeeded: the endpoint is back in rotation.
        package var restored = false
    }

    /// Records how a picked call ended.
    package mutating func finish(_ pick: Pick, _ outcome: Outcome, now: Duration) -> Finished {
        var finished = Finished()
        // The index it was picked at, unless the set changed since (then a lookup by id).
        let current = members.indices.contains(pick.index) && members[pick.index].id == pick.id ? pick.index : indexByID[pick.id]
        guard let index = current else {
            guard let inFlight = retiring[pick.id] else { return finished }
            departed[pick.id]?.calls += outcome == .abandoned ? 0 : 1
            departed[pick.id]?.failures += outcome == .endpointFault ? 1 : 0
            if inFlight > 1 {
                retiring[pick.id] = inFlight - 1
            } else {
                retiring[pick.id] = nil
                finished.closeTransport = true
            }
            return finished
        }
        let wasEjected = members[index].ejectedUntil != nil
        Self.record(pick, outcome, on: &members[index], ejection: ejection, now: now, into: &finished)
        ejectedCount += (members[index].ejectedUntil != nil ? 1 : 0) - (wasEjected ? 1 : 0)
        return finished
    }

    /// `finish` on the member in place (a copy of it per call was a measurable cost).
    private static func record(_ pick: Pick, _ outcome: Outcome, on member: inout Member, ejection: OutlierEjection,
                               now: Duration, into finished: inout Finished) {
        member.inFlight -= 1
        if pick.isProbe { member.probing = false }
        switch outcome {
        case .answered:
            member.calls += 1
            member.consecutiveFailures = 0
            if pick.isProbe {
                member.ejectedUntil = nil
                member.ejections = 0
                finished.restored = true
            }
        case .endpointFault:
            member.calls += 1
            member.failures += 1
            member.consecutiveFailures += 1
            if pick.isProbe || (member.ejectedUntil == nil && member.consecutiveFailures >= ejection.consecutiveFailures) {
                member.ejections += 1
                let time = ejection.ejectionTime(member.ejections)
                member.ejectedUntil = now + time
                member.consecutiveFailures = 0
                finished.ejectedFor = time
            }
        case .abandoned:
            break
        }
    }

    // MARK: Policies

    private func usable(_ index: Int, tried: [String], now: Duration) -> Bool {
        if let until = members[index].ejectedUntil, until > now || members[index].probing { return false }
        return tried.isEmpty || !tried.contains(members[index].id)
    }

    private mutating func pickRoundRobin(tried: [String], now: Duration) -> Int? {
        var best: Int?
        var total = 0
        for index in members.indices where usable(index, tried: tried, now: now) {
            members[index].currentWeight += members[index].endpoint.weight
            total += members[index].endpoint.weight
            if best == nil || members[index].currentWeight > members[best!].currentWeight { best = index }
        }
        if let best { members[best].currentWeight -= total }
        return best
    }

    private mutating func pickTwoChoices(tried: [String], now: Duration) -> Int? {
        let count = members.count
        if count == 1 { return usable(0, tried: tried, now: now) ? 0 : nil }
        for _ in 0..<2 {
            let first = Int(nextRandom() % UInt64(count))
            var second = Int(nextRandom() % UInt64(count - 1))
            if second >= first { second += 1 }
            switch (usable(first, tried: tried, now: now), usable(second, tried: tried, now: now)) {
            case (true, true): return lessLoaded(first, second)
            case (true, false): return first
            case (false, true): return second
            case (false, false): continue
            }
        }
        // Most endpoints unusable: the least loaded of those left.
        var best: Int?
        for index in members.indices where usable(index, tried: tried, now: now) {
            best = best.map { lessLoaded($0, index) } ?? index
        }
        return best
    }

    /// Fewer calls in flight per unit of weight (counting the one about to start).
    private func lessLoaded(_ a: Int, _ b: Int) -> Int {
        let loadA = (members[a].inFlight + 1) * members[b].endpoint.weight
        let loadB = (members[b].inFlight + 1) * members[a].endpoint.weight
        return loadB < loadA ? b : a
    }

    /// SplitMix64: cheap, and no system call per pick.
    private mutating func nextRandom() -> UInt64 {
        randomState &+= 0x9e37_79b9_7f4a_7c15
        var z = randomState
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
