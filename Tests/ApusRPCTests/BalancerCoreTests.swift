@testable import ApusRPC
import Testing

/// The balancing decisions without transports or clocks: policies, outlier ejection and
/// probing, endpoint sets changing under calls in flight.
@Suite struct BalancerCoreTests {
    func endpoint(_ n: Int, weight: Int = 1) -> Endpoint { Endpoint(host: "10.0.0.\(n)", port: 9090, weight: weight) }

    /// Picks and at once finishes `count` calls; returns the calls per endpoint id.
    func spread(_ core: inout BalancerCore, _ count: Int, key: (Int) -> UInt64? = { _ in nil }) -> [String: Int] {
        var counts: [String: Int] = [:]
        for n in 0..<count {
            guard case .success(let pick) = core.pick(key: key(n), now: .zero) else {
                Issue.record("no pick")
                return counts
            }
            counts[pick.id, default: 0] += 1
            _ = core.finish(pick, .answered, now: .zero)
        }
        return counts
    }

    @Test func roundRobinFollowsTheWeightsExactly() {
        var core = BalancerCore(policy: .roundRobin, ejection: OutlierEjection(), seed: 1)
        _ = core.update([endpoint(1), endpoint(2, weight: 2), endpoint(3)])
        let counts = spread(&core, 400)
        #expect(counts == ["10.0.0.1:9090": 100, "10.0.0.2:9090": 200, "10.0.0.3:9090": 100])
    }

    @Test func twoChoicesSteersAwayFromABusyEndpoint() {
        var core = BalancerCore(policy: .powerOfTwoChoices, ejection: OutlierEjection(), seed: 7)
        _ = core.update([endpoint(1), endpoint(2), endpoint(3)])
        // 50 calls stuck on .1 (the others tried already, so only .1 is left).
        for _ in 0..<50 {
            guard case .success(let pick) = core.pick(key: nil, tried: ["10.0.0.2:9090", "10.0.0.3:9090"], now: .zero) else {
                Issue.record("no pick")
                return
            }
            #expect(pick.id == "10.0.0.1:9090")
        }
        let counts = spread(&core, 300)
        // .1 is chosen only when both random candidates are .1, which p2c never draws.
        #expect(counts["10.0.0.1:9090", default: 0] == 0)
        #expect(counts["10.0.0.2:9090", default: 0] + counts["10.0.0.3:9090", default: 0] == 300)
        #expect(abs(counts["10.0.0.2:9090", default: 0] - counts["10.0.0.3:9090", default: 0]) < 60)
    }

    @Test func twoChoicesSpreadsByWeight() {
        var core = BalancerCore(policy: .powerOfTwoChoices, ejection: OutlierEjection(), seed: 3)
        _ = core.update([endpoint(1), endpoint(2, weight: 3)])
        // Calls held in flight: load per weight decides, so .2 ends up with about 3 of every 4.
        var held: [BalancerCore.Pick] = []
        for _ in 0..<400 {
            guard case .success(let pick) = core.pick(key: nil, now: .zero) else { return }
            held.append(pick)
        }
        let toHeavy = held.filter { $0.id == "10.0.0.2:9090" }.count
        #expect((290...310).contains(toHeavy), "\(toHeavy) of 400")
    }

    @Test func consistentHashIsStableAcrossClientsAndMovesAboutOneNthWhenOneJoins() {
        let keys = (0..<20_000).map { HashRing.hash("user-\($0)") }
        func assignment(_ endpoints: [Endpoint], seed: UInt64) -> [String] {
            var core = BalancerCore(policy: .consistentHash, ejection: OutlierEjection(), seed: seed)
            _ = core.update(endpoints)
            return keys.map { key in
                guard case .success(let pick) = core.pick(key: key, now: .zero) else { return "-" }
                _ = core.finish(pick, .answered, now: .zero)
                return pick.id
            }
        }
        let five = (1...5).map { endpoint($0) }
        let before = assignment(five, seed: 1)
        // Another client, another order, another random seed: the same endpoint for every key.
        #expect(assignment(five.reversed(), seed: 99) == before)
        // Each of 5 owns about a fifth of the keys.
        for n in 1...5 {
            let share = Double(before.filter { $0 == "10.0.0.\(n):9090" }.count) / Double(keys.count)
            #expect(share > 0.15 && share < 0.25, "10.0.0.\(n): \(share)")
        }
        let after = assignment(five + [endpoint(6)], seed: 1)
        let moved = zip(before, after).filter { $0 != $1 }
        let fraction = Double(moved.count) / Double(keys.count)
        // Ideal: 1/6 ≈ 0.167, all of it to the newcomer.
        #expect(fraction > 0.12 && fraction < 0.22, "moved \(fraction)")
        #expect(moved.allSatisfy { $0.1 == "10.0.0.6:9090" })
    }

    @Test func consistentHashSkipsAnEjectedOwnerAndReturnsWhenItIsBack() {
        var core = BalancerCore(policy: .consistentHash, ejection: OutlierEjection(consecutiveFailures: 1), seed: 1)
        _ = core.update((1...3).map { endpoint($0) })
        let key = HashRing.hash("shard-42")
        guard case .success(let owner) = core.pick(key: key, now: .zero) else { Issue.record("no pick"); return }
        let ejected = core.finish(owner, .endpointFault, now: .zero)
        #expect(ejected.ejectedFor == .seconds(1))
        guard case .success(let stand) = core.pick(key: key, now: .milliseconds(10)) else { Issue.record("no pick"); return }
        #expect(stand.id != owner.id)
        _ = core.finish(stand, .answered, now: .milliseconds(10))
        // After the ejection the owner gets the key again, as a probe first.
        guard case .success(let probe) = core.pick(key: key, now: .seconds(2)) else { Issue.record("no pick"); return }
        #expect(probe == BalancerCore.Pick(id: owner.id, isProbe: true))
        #expect(core.finish(probe, .answered, now: .seconds(2)).restored)
        guard case .success(let again) = core.pick(key: key, now: .seconds(2)) else { Issue.record("no pick"); return }
        #expect(again == BalancerCore.Pick(id: owner.id, isProbe: false))
    }

    @Test func consecutiveFailuresEjectWithGrowingBackoffAndOneProbeAtATime() {
        let ejection = OutlierEjection(consecutiveFailures: 3, baseEjection: .seconds(1), maxEjection: .seconds(3))
        var core = BalancerCore(policy: .roundRobin, ejection: ejection, seed: 1)
        _ = core.update([endpoint(1)])
        func pick(at now: Duration) -> Result<BalancerCore.Pick, BalancerCore.NoPick> { core.pick(key: nil, now: now) }

        // Two failures and an answer: the count starts over.
        for outcome in [BalancerCore.Outcome.endpointFault, .endpointFault, .answered, .endpointFault, .endpointFault] {
            guard case .success(let p) = pick(at: .zero) else { Issue.record("no pick"); return }
            #expect(core.finish(p, outcome, now: .zero).ejectedFor == nil)
        }
        guard case .success(let third) = pick(at: .zero) else { Issue.record("no pick"); return }
        #expect(core.finish(third, .endpointFault, now: .zero).ejectedFor == .seconds(1))
        #expect(pick(at: .milliseconds(500)) == .failure(.allEjected(until: .seconds(1))))

        // Time is up: one probe; a second call meanwhile finds nothing usable.
        guard case .success(let probe) = pick(at: .seconds(1)) else { Issue.record("no probe"); return }
        #expect(probe.isProbe)
        if case .success = pick(at: .seconds(1)) { Issue.record("a second call went to an endpoint being probed") }
        // The probe fails: ejected for twice as long, then capped.
        #expect(core.finish(probe, .endpointFault, now: .seconds(1)).ejectedFor == .seconds(2))
        guard case .success(let probe2) = pick(at: .seconds(3)) else { Issue.record("no probe"); return }
        #expect(core.finish(probe2, .endpointFault, now: .seconds(3)).ejectedFor == .seconds(3))
        // A cancelled probe teaches nothing: the next call probes again.
        guard case .success(let probe3) = pick(at: .seconds(6)) else { Issue.record("no probe"); return }
        _ = core.finish(probe3, .abandoned, now: .seconds(6))
        guard case .success(let probe4) = pick(at: .seconds(6)) else { Issue.record("no probe"); return }
        #expect(probe4.isProbe)
        #expect(core.finish(probe4, .answered, now: .seconds(6)).restored)
        guard case .success(let normal) = pick(at: .seconds(6)) else { Issue.record("no pick"); return }
        #expect(!normal.isProbe)
        #expect(core.members[0].failures == 7)
    }

    @Test func noEndpointsAndNothingLeftToTryAreTold() {
        var core = BalancerCore(policy: .powerOfTwoChoices, ejection: OutlierEjection(), seed: 1)
        #expect(core.pick(key: nil, now: .zero) == .failure(.empty))
        _ = core.update([endpoint(1), endpoint(2)])
        #expect(core.pick(key: nil, tried: ["10.0.0.1:9090", "10.0.0.2:9090"], now: .zero) == .failure(.allTried))
        guard case .success(let p) = core.pick(key: nil, tried: ["10.0.0.1:9090"], now: .zero) else { Issue.record("no pick"); return }
        #expect(p.id == "10.0.0.2:9090")
        _ = core.update([])
        #expect(core.pick(key: nil, now: .zero) == .failure(.empty))
    }

    @Test func anEndpointThatLeavesFinishesItsCallsBeforeItsTransportCloses() {
        var core = BalancerCore(policy: .roundRobin, ejection: OutlierEjection(), seed: 1)
        #expect(core.update([endpoint(1), endpoint(2)]).added.count == 2)
        guard case .success(let first) = core.pick(key: nil, tried: ["10.0.0.2:9090"], now: .zero),
              case .success(let second) = core.pick(key: nil, tried: ["10.0.0.2:9090"], now: .zero) else { Issue.record("no pick"); return }
        // .1 leaves with two calls in flight; .2 leaves idle and closes at once.
        var changes = core.update([endpoint(3)])
        #expect(changes.added == [endpoint(3)])
        #expect(changes.closeNow == ["10.0.0.2:9090"])
        #expect(core.retiring == ["10.0.0.1:9090": 2])
        #expect(!core.finish(first, .answered, now: .zero).closeTransport)
        // It comes back before its last call ends: its transport is kept.
        changes = core.update([endpoint(1), endpoint(3)])
        #expect(changes.revived == ["10.0.0.1:9090"])
        #expect(changes.added.isEmpty)
        #expect(core.members.first { $0.endpoint.id == "10.0.0.1:9090" }?.inFlight == 1)
        // And leaves again: the last call's end closes it.
        _ = core.update([endpoint(3)])
        #expect(core.finish(second, .answered, now: .zero).closeTransport)
        #expect(core.retiring.isEmpty)
    }

    @Test func aChangedWeightKeepsTheEndpointsState() {
        var core = BalancerCore(policy: .roundRobin, ejection: OutlierEjection(consecutiveFailures: 1), seed: 1)
        _ = core.update([endpoint(1)])
        guard case .success(let p) = core.pick(key: nil, now: .zero) else { Issue.record("no pick"); return }
        _ = core.finish(p, .endpointFault, now: .zero)
        let changes = core.update([endpoint(1, weight: 5)])
        #expect(changes == BalancerCore.Changes())
        #expect(core.members[0].endpoint.weight == 5)
        #expect(core.members[0].ejectedUntil == .seconds(1))
    }

    @Test func endpointsParse() throws {
        #expect(try Endpoint.parseList("10.0.0.1:9090, 10.0.0.2:9091") == [
            Endpoint(host: "10.0.0.1", port: 9090), Endpoint(host: "10.0.0.2", port: 9091)])
        #expect(try Endpoint(parsing: "[::1]:80").id == "[::1]:80")
        for bad in ["10.0.0.1", "10.0.0.1:0", "10.0.0.1:99999", ":80", "host:port", ""] {
            #expect(throws: EndpointError.self, "\(bad)") { try Endpoint.parseList(bad) }
        }
    }

    @Test func callsOfAnEndpointThatLeftStayCountedAndComeBackWithIt() {
        var core = BalancerCore(policy: .roundRobin, ejection: OutlierEjection(), seed: 1)
        _ = core.update([endpoint(1), endpoint(2)])
        #expect(spread(&core, 10) == ["10.0.0.1:9090": 5, "10.0.0.2:9090": 5])
        guard case .success(let held) = core.pick(key: nil, tried: ["10.0.0.2:9090"], now: .zero) else { Issue.record("no pick"); return }
        _ = core.update([endpoint(2)])
        #expect(core.finish(held, .endpointFault, now: .zero).closeTransport)
        #expect(core.departed["10.0.0.1:9090"]?.calls == 6)
        #expect(core.departed["10.0.0.1:9090"]?.failures == 1)
        _ = core.update([endpoint(1), endpoint(2)])
        #expect(core.departed.isEmpty)
        #expect(core.members.first { $0.id == "10.0.0.1:9090" }?.calls == 6)
    }
}
