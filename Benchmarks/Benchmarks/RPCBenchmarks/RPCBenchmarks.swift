// package-benchmark suite for one RPC call, end to end through a transport:
// wall time and malloc counts per call (process-wide, so both ends count).
// Run: cd Benchmarks && swift package benchmark --target RPCBenchmarks
import ApusRPC
import ApusThrift
import ApusTransportPosix
import Benchmark
import NIOPosix
import RPCBenchModels

let payload = [UInt8](repeating: 0x61, count: 64)

/// The benchmark service with an async handler (a task per call), or a synchronous one (inline).
func router(synchronous: Bool) -> Router {
    var router = Router()
    router.register(synchronous ? Bench.service(BenchSyncEcho()) : Bench.service(BenchEcho()))
    return router
}

/// Runs a server on `transport`, calls `body` with the port it listens on, then shuts it down.
func serving<Transport: ServerTransport>(_ transport: Transport, synchronous: Bool = false,
                                         _ body: (Int) async throws -> Void) async throws {
    let server = RPCServer(transport: transport, router: router(synchronous: synchronous), logger: ServerContext.silentLogger)
    let running = Task { try await server.run() }
    let address = try await server.listeningAddress
    try await body(Int(address.description.split(separator: ":").last ?? "") ?? 0)
    server.beginGracefulShutdown()
    try await running.value
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 100_000
    )

    // Kernel sockets on loopback, one connection, one call at a time: the
    // stream cores at both ends plus NIO and the kernel; plain framed, then in a THeader frame
    // with no info headers (what the header itself costs per call) and in a TTHeader frame
    // (which carries the method as int key 9, as Kitex's clients send it).
    for header in [nil] + THeader.Format.allCases.map(Optional.some) {
        Benchmark("kernel loopback: one echo call" + (header.map { ", \($0)" } ?? "")) { benchmark in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let transport = PosixServerTransport(host: "127.0.0.1", port: 0, group: group)
            try await serving(transport) { port in
                var configuration = PosixClientTransport.Configuration()
                configuration.header = header
                let client = PosixClientTransport(host: "127.0.0.1", port: port, configuration: configuration, group: group)
                let bench = Bench.Client(client)
                _ = try await bench.echo(payload: payload)  // connect outside the measurement
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations { blackHole(try await bench.echo(payload: payload)) }
                benchmark.stopMeasurement()
                await client.close()
            }
            try await group.shutdownGracefully()
        }
    }

    // In-process: the stream cores, dispatcher and generated code without any I/O; with an
    // async handler, then a synchronous one (no task per call).
    for synchronous in [false, true] {
        Benchmark("in-process: one echo call" + (synchronous ? ", synchronous handler" : "")) { benchmark in
            let transport = InProcessServerTransport()
            try await serving(transport, synchronous: synchronous) { _ in
                let bench = Bench.Client(transport.makeClient())
                _ = try await bench.echo(payload: payload)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations { blackHole(try await bench.echo(payload: payload)) }
                benchmark.stopMeasurement()
            }
        }
    }
}
