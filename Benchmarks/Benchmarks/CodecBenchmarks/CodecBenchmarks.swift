// package-benchmark suite for the codec: wall time and malloc counts.
// Run: cd Benchmarks && swift package benchmark
// The zero-copy decodes must report 0 mallocs (the ApusThrift contract).
import ApusThrift
import Benchmark
import BenchmarkModels

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .instructions],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )

    for proto in ThriftProtocolID.allCases {
        let small = try! Thrift.encode(CodecFixtures.small, protocol: proto)
        let large = try! Thrift.encode(CodecFixtures.large, protocol: proto)

        Benchmark("small \(proto) decode (views)") { benchmark in
            small.withUnsafeBytes { input in
                for _ in benchmark.scaledIterations {
                    blackHole(try! decode(SmallView.self, input, proto).name.count)
                }
            }
        }
        Benchmark("small \(proto) decode (owned)") { benchmark in
            small.withUnsafeBytes { input in
                for _ in benchmark.scaledIterations {
                    blackHole(try! decode(Small.self, input, proto).name.utf8.count)
                }
            }
        }
        Benchmark("small \(proto) encode") { benchmark in
            var frame = [UInt8](repeating: 0, count: 2048)
            frame.withUnsafeMutableBytes { output in
                for _ in benchmark.scaledIterations {
                    blackHole(try! Thrift.encode(CodecFixtures.small, protocol: proto, into: output))
                }
            }
        }
        Benchmark("large \(proto) decode (views)") { benchmark in
            large.withUnsafeBytes { input in
                for _ in benchmark.scaledIterations {
                    let view = try! decode(LargeView.self, input, proto)
                    blackHole(view.title.count &+ view.values.count)
                }
            }
        }
        Benchmark("large \(proto) decode (owned)") { benchmark in
            large.withUnsafeBytes { input in
                for _ in benchmark.scaledIterations {
                    blackHole(try! decode(Large.self, input, proto).values.count)
                }
            }
        }
        // Into one value again and again: the list's and the map's storage kept, so the
        // mallocs left are the strings' (title, the map's 16 keys and values, inner.b).
        Benchmark("large \(proto) decode (reused)") { benchmark in
            var target = CodecFixtures.large
            large.withUnsafeBytes { input in
                for _ in benchmark.scaledIterations {
                    try! Thrift.decode(into: &target, from: input, protocol: proto)
                    blackHole(target.values.count)
                }
            }
        }
        Benchmark("large \(proto) encode") { benchmark in
            var frame = [UInt8](repeating: 0, count: 4096)
            frame.withUnsafeMutableBytes { output in
                for _ in benchmark.scaledIterations {
                    blackHole(try! Thrift.encode(CodecFixtures.large, protocol: proto, into: output))
                }
            }
        }
    }
}

@inline(__always)
func decode<T: ThriftDecodable>(_ type: T.Type, _ input: UnsafeRawBufferPointer, _ proto: ThriftProtocolID) throws(ThriftError) -> T {
    switch proto {
    case .binary:
        var reader = BinaryReader(input)
        return try T(from: &reader)
    case .compact:
        var reader = CompactReader(input)
        return try T(from: &reader)
    }
}
