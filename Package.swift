// swift-tools-version: 6.1
// Apus: a kernel-bypass Apache Thrift RPC stack for Swift on Linux.
// Module layout and dependency rules: ../shared/DESIGN.md ("Modules").
import PackageDescription

/// `APUS_FUZZ=1` adds the libFuzzer targets under Fuzz/ (scripts/fuzz.sh builds them into
/// .build-fuzz). The modules they exercise are then compiled with coverage and
/// AddressSanitizer too, or libFuzzer would see only the harness's own branches; asserts stay
/// on in release (`-assert-config Debug`) because they are part of what a run checks.
let fuzzing = Context.environment["APUS_FUZZ"] == "1"
let fuzzFlags = ["-sanitize=fuzzer,address", "-assert-config", "Debug"]
let fuzzInstrumented: [SwiftSetting] = fuzzing ? [.unsafeFlags(fuzzFlags)] : []

let package = Package(
    name: "Apus",
    products: [
        .library(name: "ApusThrift", targets: ["ApusThrift"]),
        .library(name: "ApusWire", targets: ["ApusWire"]),
        .library(name: "ApusNet", targets: ["ApusNet"]),
        .library(name: "ApusXSK", targets: ["ApusXSK"]),
        .library(name: "ApusRPC", targets: ["ApusRPC"]),
        .library(name: "ApusTransportPosix", targets: ["ApusTransportPosix"]),
        .library(name: "ApusTransportXDP", targets: ["ApusTransportXDP"]),
        .library(name: "ApusEtcd", targets: ["ApusEtcd"]),
        .library(name: "ApusIDL", targets: ["ApusIDL"]),
        .library(name: "ApusCodegen", targets: ["ApusCodegen"]),
        .executable(name: "apus", targets: ["apus"]),
        .executable(name: "apus-gen", targets: ["apus-gen"]),
        .plugin(name: "ApusGenPlugin", targets: ["ApusGenPlugin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // The zero-copy Thrift codec: protocols, message boundaries, limits. No dependencies.
        .target(name: "ApusThrift", swiftSettings: fuzzInstrumented),
        // Ethernet/ARP/IPv4/ICMP/UDP/TCP header views and reprs, checksums. No I/O, no dependencies.
        .target(name: "ApusWire", swiftSettings: fuzzInstrumented),
        // Sans-IO ARP, ICMP echo, UDP and TCP over ApusWire: frames and time in, frames and events out.
        .target(name: "ApusNet", dependencies: ["ApusWire"], swiftSettings: fuzzInstrumented),
        // In-memory links with seeded loss/reorder/duplication/delay for stack tests, and the
        // impairing device wrapper for the XDP engine (tests and `--impair`).
        .target(name: "ApusTesting", dependencies: ["ApusNet", "ApusWire", "ApusXSK", "ApusTransportXDP"]),
        // linux/if_xdp.h, libbpf map calls and the XDP program's map layouts (bpf/apus_xdp.h).
        .systemLibrary(name: "CXDP", path: "Sources/CXDP", pkgConfig: "libbpf", providers: [.apt(["libbpf-dev"])]),
        // UMEM, the four AF_XDP rings (swift-atomics over the mmap'd indexes), socket setup, pinned maps.
        .target(
            name: "ApusXSK",
            dependencies: ["CXDP", .product(name: "Atomics", package: "swift-atomics")]
        ),
        // zlib, for THeader's zlib transform.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // Services, context, errors, router, middleware, server core, client; no syscalls.
        .target(
            name: "ApusRPC",
            dependencies: [
                "ApusThrift",
                "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: fuzzInstrumented
        ),
        // epoll, eventfd and accept4 for the kernel-socket server loop (not in Swift's Glibc module).
        .target(name: "CEpoll"),
        // The kernel-socket transport (an epoll loop; SwiftNIO for clients and TLS): the path every machine has.
        .target(
            name: "ApusTransportPosix",
            dependencies: [
                "ApusRPC",
                "CEpoll",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The Thrift IDL: lexer, parser, include loader, name resolution, diagnostics. No dependencies.
        .target(name: "ApusIDL"),
        // IDL to Swift for ApusThrift and ApusRPC; what `apus gen`, apus-gen and the plugin run.
        .target(name: "ApusCodegen", dependencies: ["ApusIDL"]),
        // The build plugin's tool: code generation without the rest of the apus executable.
        .executableTarget(name: "apus-gen", dependencies: ["ApusCodegen"]),
        // Generates Swift from the .thrift files among a target's sources.
        .plugin(name: "ApusGenPlugin", capability: .buildTool(), dependencies: ["apus-gen"]),
        // The AF_XDP engine: a queue's socket as ApusNet's frame device, the per-queue loop.
        .target(name: "ApusTransportXDP", dependencies: [
            "ApusNet", "ApusXSK", "ApusWire", "ApusRPC", "ApusThrift",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Service discovery and registration on etcd v3 (its JSON gateway, through async-http-client).
        .target(name: "ApusEtcd", dependencies: [
            "ApusRPC",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        // Examples/echo.thrift in Swift (Echo, KV) and their in-memory handlers.
        .target(name: "ApusExamples", dependencies: ["ApusRPC", "ApusThrift"]),
        .executableTarget(
            name: "apus",
            dependencies: [
                "ApusThrift", "ApusRPC", "ApusTransportPosix", "ApusExamples", "ApusXSK", "ApusWire", "ApusCodegen", "ApusNet", "ApusTesting", "ApusTransportXDP", "ApusEtcd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(name: "ApusThriftTests", dependencies: ["ApusThrift"], exclude: ["Fixtures"]),
        .testTarget(name: "ApusWireTests", dependencies: ["ApusWire"]),
        .testTarget(name: "ApusNetTests", dependencies: ["ApusNet", "ApusTesting", "ApusWire"]),
        .testTarget(name: "ApusXSKTests", dependencies: ["ApusXSK"]),
        .testTarget(name: "ApusTransportXDPTests", dependencies: [
            "ApusTransportXDP", "ApusExamples", "ApusRPC", "ApusNet", "ApusTesting", "ApusThrift", "ApusWire", "ApusXSK",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ApusEtcdTests", dependencies: [
            "ApusEtcd", "ApusRPC",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ApusCodegenTests", dependencies: ["ApusIDL", "ApusCodegen"], exclude: ["Fixtures"]),
        // The snapshot files compiled as a module, so generated code is known to build and run.
        .target(
            name: "ApusCodegenFixtures",
            dependencies: ["ApusRPC", "ApusThrift"],
            path: "Tests/ApusCodegenTests/Fixtures/Snapshots"
        ),
        // Its .thrift files are turned into Swift by the plugin at build time, as in a user's package.
        .testTarget(
            name: "ApusGenPluginTests",
            dependencies: ["ApusRPC", "ApusThrift"],
            plugins: [.plugin(name: "ApusGenPlugin")]
        ),
        // Random values of crosslang.thrift through the generated code and Apache Thrift's Python library, both ways.
        .testTarget(
            name: "ApusCrossLanguageTests",
            dependencies: ["ApusRPC", "ApusThrift"],
            plugins: [.plugin(name: "ApusGenPlugin")]
        ),
        // Meridian: a made-up platform's IDL the size of real services', generated by the plugin.
        .target(
            name: "ApusCodegenCorpus",
            dependencies: ["ApusRPC", "ApusThrift"],
            path: "Tests/ApusCodegenCorpus",
            plugins: [.plugin(name: "ApusGenPlugin")]
        ),
        .testTarget(name: "ApusCodegenCorpusTests", dependencies: ["ApusCodegenCorpus", "ApusRPC", "ApusThrift"]),
        .testTarget(name: "ApusCodegenFixtureTests", dependencies: ["ApusCodegenFixtures", "ApusRPC", "ApusThrift", "ApusTesting"]),
        .testTarget(
            name: "ApusRPCTests",
            dependencies: [
                "ApusRPC", "ApusTransportPosix", "ApusExamples",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)

if fuzzing {
    /// One executable per harness: Fuzz/<name>/<name>.swift defines `LLVMFuzzerTestOneInput`,
    /// its main.swift starts libFuzzer's driver (see FuzzDriver.h for why not libFuzzer's `main`).
    func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
        .executableTarget(
            name: name, dependencies: dependencies + ["FuzzDriver"], path: "Fuzz/\(name)",
            swiftSettings: [.unsafeFlags(fuzzFlags)],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]
        )
    }
    package.targets += [
        .target(name: "FuzzDriver", path: "Fuzz/FuzzDriver"),
        fuzzTarget("FuzzThriftProtocols", ["ApusThrift"]),
        fuzzTarget("FuzzMessageFraming", ["ApusThrift", "ApusRPC"]),
        fuzzTarget("FuzzServerConnection", ["ApusThrift", "ApusRPC"]),
        fuzzTarget("FuzzWire", ["ApusWire"]),
        fuzzTarget("FuzzNetStack", ["ApusNet", "ApusWire"]),
    ]
}

// Async functions run on their caller's executor unless marked `@concurrent` (SE-0461): a call
// made on a loop thread stays there without hopping to the generic executor and back at every
// async function boundary (each hop looks up the task's executor preference under a lock).
for target in package.targets where target.type != .plugin && target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]
}
