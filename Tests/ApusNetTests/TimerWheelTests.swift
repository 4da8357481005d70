@testable import ApusNet
import Testing

@Suite struct TimerWheelTests {
    static func fire(_ wheel: inout TimerWheel, at now: NetInstant) -> [Int] {
        var fired: [Int] = []
        wheel.expire(upTo: now) { fired.append($0) }
        return fired.sorted()
    }

    @Test func firesExactlyAtTheDeadlineNotAtTheTick() {
        var wheel = TimerWheel()
        wheel.set(1, at: NetInstant(nanoseconds: 5_000_500))
        #expect(Self.fire(&wheel, at: NetInstant(nanoseconds: 5_000_499)).isEmpty)
        #expect(wheel.nextExpiry() == NetInstant(nanoseconds: 5_000_500))
        #expect(Self.fire(&wheel, at: NetInstant(nanoseconds: 5_000_500)) == [1])
        #expect(wheel.count == 0 && wheel.nextExpiry() == .distantFuture)
    }

    @Test func deadlinesBeyondOneTurnWaitForTheirTurn() {
        var wheel = TimerWheel()
        let start = NetInstant.seconds(100)
        _ = Self.fire(&wheel, at: start)
        wheel.set(7, at: start + .seconds(60))  // many turns of ~4.3 s out
        wheel.set(8, at: start + .milliseconds(3))
        #expect(wheel.nextExpiry() == start + .milliseconds(3))
        #expect(Self.fire(&wheel, at: start + .milliseconds(3)) == [8])
        #expect(wheel.nextExpiry() == start + .seconds(60))
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
        for index in 0..<100 { wheel.set(index, at: .milliseconds(UInt64(index * 97 + 1))) }
        #expect(Self.fire(&wheel, at: .seconds(3600)) == Array(0..<100))
    }

    @Test func movingAndCancellingKeepOneEntryPerConnection() {
        var wheel = TimerWheel()
        wheel.set(1, at: .milliseconds(10))
        wheel.set(2, at: .milliseconds(10))
        wheel.set(1, at: .milliseconds(50))
        #expect(wheel.count == 2 && wheel.nextExpiry() == .milliseconds(10))
        wheel.cancel(2)
        #expect(wheel.count == 1 && wheel.nextExpiry() == .milliseconds(50))
        #expect(Self.fire(&wheel, at: .milliseconds(49)).isEmpty)
        #expect(Self.fire(&wheel, at: .milliseconds(50)) == [1])
        wheel.cancel(1)  // already gone: nothing happens
        #expect(wheel.count == 0)
    }
}
