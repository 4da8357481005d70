import ApusNet
@testable import ApusTransportXDP
import Testing

@Suite struct SpinPolicyTests {
    let t0 = NetInstant.seconds(100)

    func sleeps(_ policy: inout SpinPolicy, at now: NetInstant) -> Bool { policy.shouldSleep(at: now) }

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
        #expect(policy.budget == .microseconds(10), "ran out: halved")
    }

    @Test func workFoundWhilePollingDoublesTheBudgetUpToTheMaximum() {
        var policy = SpinPolicy(maximum: .microseconds(40))
        for round in 0..<4 {
            let start = t0 + .milliseconds(Int64(round))
            #expect(!sleeps(&policy, at: start))
            #expect(!sleeps(&policy, at: start + .microseconds(5)))
            policy.worked()
        }
        #expect(policy.budget == .microseconds(40))
    }

    @Test func packetsFarApartShrinkTheBudgetToTheMinimum() {
        var policy = SpinPolicy(maximum: .microseconds(64), minimum: .microseconds(2))
        var now = t0
        for _ in 0..<20 {
            policy.worked()  // a packet, then nothing for a long time
            while !policy.shouldSleep(at: now) { now += .microseconds(1) }
            now += .milliseconds(1)
        }
        #expect(policy.budget == .microseconds(2))
    }

    @Test func workAfterASleepDoesNotCountAsPollingSuccess() {
        var policy = SpinPolicy(maximum: .microseconds(40))
        #expect(!sleeps(&policy, at: t0))
        #expect(sleeps(&policy, at: t0 + .microseconds(20)))
        let afterSleep = policy.budget
        policy.worked()  // woke from poll(2) with work
        #expect(policy.budget == afterSleep)
    }
}
