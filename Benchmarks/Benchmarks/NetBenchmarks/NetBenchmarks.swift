// package-benchmark suite for ApusNet: time and malloc counts per TCP data segment.
// Run: cd Benchmarks && swift package benchmark --target NetBenchmarks
// Target: 0 mallocs per in-order segment in steady state, on both ends.
import Benchmark
import NetBenchSupport

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .instructions],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )

    Benchmark("tcp segment: send, receive, read, ACK (both ends)") { benchmark in
        var pump = SegmentPump()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(pump.sendSegment())
            blackHole(pump.receiveAndAcknowledge())
        }
    }
}
