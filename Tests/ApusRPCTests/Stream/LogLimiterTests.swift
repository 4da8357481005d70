import Testing
@testable import ApusRPC

@Suite struct LogLimiterTests {
    @Test func oneLineAPerKindPerIntervalWithTheCountLeftOut() {
        var limiter = LogLimiter(interval: .seconds(1))
        var logged: [Int] = []
        for step in 0..<1_000 {
            // A thousand resets over 2.5 s.
            if let suppressed = limiter.admit("reset", at: .milliseconds(step * 5 / 2)) { logged.append(suppressed) }
        }
        #expect(logged == [0, 399, 399])
        #expect(limiter.admit("other kind", at: .milliseconds(10)) == 0, "kinds are limited separately")
    }
}
