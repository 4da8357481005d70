@testable import ApusTransportXDP
import Testing

@Suite struct TrimPolicyTests {
    @Test func releasesAfterALargeDropOnly() {
        var policy = TrimPolicy()
        let samples: [(connections: Int, memory: Int, release: Bool)] = [
            (10_000, 1 << 20, false),
            (9_500, 1 << 20, false),   // ordinary churn
            (8_000, 1 << 20, true),    // a flood closed
            (8_000, 1 << 20, false),   // once per drop
            (8_000, 40 << 20, false),
            (8_000, 4 << 20, true),    // buffers drained
        ]
        let decisions = samples.map { policy.shouldRelease(connections: $0.connections, bufferMemory: $0.memory) }
        #expect(decisions == samples.map(\.release))
    }
}
