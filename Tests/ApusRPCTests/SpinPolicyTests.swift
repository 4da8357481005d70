@testable import ApusRPC
import Testing

@Suite struct SpinPolicyTests {
    let t0 = Duration.seconds(100)

    func sleeps(_ policy: inout SpinPolicy, at now: Duration) -> Bool { policy.shouldSleep(at: now) }

    @Test func zeroMaximumSleepsAtOnce() {
        var policy = SpinPolicy(maximum: .zero)
        #expect(sleeps(&policy, at: t0))
        #expect(sleeps(&policy, at: t0 + .microseconds(1)))
    }

    @Test func pollsForItsBudgetThenSleeps() {
        var policy = SpinPolicy(maximum: .microseconds(40))
        #expect(policy.budget == .microseconds(20))
        #expect(!sleeps(&policy, at: t0))
        #expect(!sleeps(&policy, at: t0 + .microseconds(19)))
        #expect(sleeps(&policy, at: t0 + .microseconds(20)))
        #expect(sleeps(&policy, at: t0 + .milliseconds(100)), "woken with nothing to do (a timer): sleeps again")
        policy.worked(at: t0 + .milliseconds(200))
        #expect(policy.budget == .microseconds(10), "the work came long after: polling would have been wasted, halved")
    }

    @Test func workFoundWhilePollingDoublesTheBudgetUpToTheMaximum() {
        var policy = SpinPolicy(maximum: .microseconds(40))
        for round in 0..<4 {
            let start = t0 + .milliseconds(round)
            #expect(!sleeps(&policy, at: start))
            #expect(!sleeps(&policy, at: start + .microseconds(5)))
            policy.worked(at: start + .microseconds(5))
        }
        #expect(policy.budget == .microseconds(40))
    }

    @Test func workFarApartShrinksTheBudgetToTheMinimum() {
        var policy = SpinPolicy(maximum: .microseconds(64), minimum: .microseconds(2))
        var now = t0
        for _ in 0..<20 {
            policy.worked(at: now)  // a packet, then nothing for a long time
            while !policy.shouldSleep(at: now) { now += .microseconds(1) }
            now += .milliseconds(1)
        }
        #expect(policy.budget == .microseconds(2))
    }

    @Test func aWakeSoonAfterSleepingRaisesTheBudgetToCoverIt() {
        // Calls every 30 µs, a budget shrunk to the minimum by a quiet spell: the first wake-up
        // shows that polling 30 µs would have found the work, and from then on polling does.
        var policy = SpinPolicy(maximum: .microseconds(50), minimum: .microseconds(2))
        var now = t0
        for _ in 0..<10 {
            policy.worked(at: now)
            while !policy.shouldSleep(at: now) { now += .microseconds(1) }
            now += .milliseconds(1)
        }
        #expect(policy.budget == .microseconds(2))
        policy.worked(at: now)
        #expect(!sleeps(&policy, at: now))
        #expect(sleeps(&policy, at: now + .microseconds(2)))
        now += .microseconds(30)
        policy.worked(at: now)
        #expect(policy.budget == .microseconds(50), "twice the gap, capped at the maximum")
        for _ in 0..<5 {
            #expect(!sleeps(&policy, at: now))
            #expect(!sleeps(&policy, at: now + .microseconds(29)), "polls through the gap")
            now += .microseconds(30)
            policy.worked(at: now)
        }
        #expect(policy.budget == .microseconds(50))
    }

    @Test func workOnlyAfterTheMaximumNeverRaisesTheBudget() {
        var policy = SpinPolicy(maximum: .microseconds(40))
        var now = t0
        for _ in 0..<10 {
            policy.worked(at: now)
            while !policy.shouldSleep(at: now) { now += .microseconds(1) }
            now += .microseconds(41)
        }
        #expect(policy.budget == .microseconds(2))
    }

    @Test func withoutLearningFromSleepsOnlyWorkFoundWhilePollingRaisesTheBudget() {
        // An AF_XDP queue's policy: a wake-up soon after sleeping does not count as polling success.
        var policy = SpinPolicy(maximum: .microseconds(40), learnsFromSleeps: false)
        #expect(!sleeps(&policy, at: t0))
        #expect(sleeps(&policy, at: t0 + .microseconds(20)))
        policy.worked(at: t0 + .microseconds(25))
        #expect(policy.budget == .microseconds(10), "a spell that ended in a sleep halves the budget")
        #expect(!sleeps(&policy, at: t0 + .milliseconds(1)))
        policy.worked(at: t0 + .milliseconds(1) + .microseconds(4))
        #expect(policy.budget == .microseconds(20), "work found while polling doubles it")
    }
}
