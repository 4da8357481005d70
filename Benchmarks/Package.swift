// swift-tools-version: 6.1
// The codec benchmarks, kept out of the main package so `swift test` does not build them.
//   swift package benchmark                       (package-benchmark: time and mallocs)
//   swift run -c release CodecCompare             (lines for scripts/bench-codec.sh)
import PackageDescription

let package = Package(
    name: "ApusBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Apus", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The benchmark structs of Thrift/codec.thrift, in the shape generated code has.
        .target(name: "BenchmarkModels", dependencies: [.product(name: "ApusThrift", package: "Apus")]),
        .executableTarget(name: "CodecCompare", dependencies: ["BenchmarkModels", .product(name: "ApusThrift", package: "Apus")]),
        .executableTarget(
            name: "CodecBenchmarks",
            dependencies: [
                "BenchmarkModels",
                .product(name: "ApusThrift", package: "Apus"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/CodecBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
