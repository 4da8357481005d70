@testable import ApusNet
import Testing

@Suite struct TimerWheelTests {
    static func fire(_ wheel: inout TimerWheel, at now: NetInstant) -> [Int] {
        var fired: [Int] = []
        wheel.expire(upTo: now) { index, _ in fired.append(index) }
        return fired.sorted()
    }

    @Test func firesExactlyAtTheDeadlineNotAtTheTick() {
        var wheel = TimerWheel()
        wheel.schedule(1, at: NetInstant(nanoseconds: 5_000_500))
        #expect(Self.fire(&wheel, at: NetInstant(nanoseconds: 5_000_499)).isEmpty)
        #expect(wheel.nextExpiry { _, _ in true } == NetInstant(nanoseconds: 5_000_500))
        #expect(Self.fire(&wheel, at: NetInstant(nanoseconds: 5_000_500)) == [1])
        #expect(wheel.count == 0 && wheel.nextExpiry { _, _ in true } == .distantFuture)
    }

    @Test func deadlinesBeyondOneTurnWaitForTheirTurn() {
        var wheel = TimerWheel()
        let start = NetInstant.seconds(100)
        _ = Self.fire(&wheel, at: start)
        wheel.schedule(7, at: start + .seconds(60))  // many turns of ~4.3 s out
        wheel.schedule(8, at: start + .milliseconds(3))
        #expect(wheel.nextExpiry { _, _ in true } == start + .milliseconds(3))
        #expect(Self.fire(&wheel, at: start + .milliseconds(3)) == [8])
        #expect(wheel.nextExpiry { _, _ in true } == start + .seconds(60))
        var now = start
        var fired: [Int] = []
        while now < start + .seconds(61) {
            now += .milliseconds(700)
            fired += Self.fire(&wheel, at: now)
            if fired.isEmpty { #expect(now < start + .seconds(60)) }
        }
        #expect(fired == [7])
    }

    @Test func aLargeJumpFiresEverythingDue() {
        var wheel = TimerWheel()
        for index in 0..<100 { wheel.schedule(index, at: .milliseconds(UInt64(index * 97 + 1))) }
        #expect(Self.fire(&wheel, at: .seconds(3600)) == Array(0..<100))
    }

    @Test func staleEntriesDoNotCountForTheNextExpiry() {
        var wheel = TimerWheel()
        wheel.schedule(1, at: .milliseconds(10))
        wheel.schedule(1, at: .milliseconds(50))
        wheel.invalidateCache()
        #expect(wheel.nextExpiry { _, deadline in deadline == .milliseconds(50) } == .milliseconds(50))
    }
}
