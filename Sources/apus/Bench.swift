import ApusExamples
import ApusRPC
import ApusThrift
import ApusTransportPosix
import ArgumentParser
import Histogram
import NIOCore
import NIOPosix
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `apus bench`: a closed-loop load generator on the Apus client.
///
/// `--concurrency` calls are kept in flight, spread over `--connections`
/// pipelined connections; each worker task runs on its connection's event
/// loop, so a call and its reply never change threads in the client.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load-test an Echo server: QPS and latency percentiles.",
        discussion: """
            Prints a progress line every second, then a summary (or, with --json, one JSON object \
            with qps, calls, errors, p50_us, p90_us, p99_us, p999_us, max_us).
            """
    )

    enum MethodChoice: String, ExpressibleByArgument, CaseIterable { case echo, ping, echoItem }

    @Option(help: "Server address.")
    var host = "127.0.0.1"
    @Option(help: "Server port.")
    var port = 9090
    @Option(help: "Connections in the pool.")
    var connections = 1
    @Option(help: "Calls in flight at once, over all connections.")
    var concurrency = 1
    @Option(help: "Seconds to run.")
    var duration = 10.0
    @Option(help: "Payload bytes (the echoed string, or the item's title).")
    var payload = 64
    @Option(help: "Method to call.")
    var method: MethodChoice = .echo
    @Option(help: "binary or compact.")
    var `protocol`: ThriftProtocolID = .binary
    @Option(help: "framed or buffered.")
    var framing: ThriftFraming = .framed
    @Option(help: "Event-loop threads of the client.")
    var threads = 1
    @Option(help: "Per-call timeout in seconds.")
    var timeout = 5.0
    @Flag(help: "Print the summary as one JSON object.")
    var json = false

    func validate() throws {
        guard connections >= 1 else { throw ValidationError("--connections must be at least 1") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
        guard payload >= 0 else { throw ValidationError("--payload must be at least 0") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let transport = PosixClientTransport(
            host: host, port: port,
            configuration: .init(framing: framing, protocol: self.protocol, connections: connections),
            group: group)
        let client = Echo.Client(transport)
        let counters = Counters()
        let text = String(repeating: "x", count: payload)
        let item = Item(id: 42, title: text)
        let options = CallOptions(timeout: .nanoseconds(Int64(timeout * 1e9)))
        let method = self.method

        // One call first, so a wrong address fails with one clear line rather than a flood.
        do {
            try await client.ping(options: options)
        } catch {
            Console.error("apus bench: cannot reach \(host):\(port): \(error)")
            throw ExitCode(1)
        }

        let start = ContinuousClock.now
        let end = start.advanced(by: .nanoseconds(Int64(duration * 1e9)))
        let progress = Task {
            var second = 1
            while !Task.isCancelled {
                try? await Task.sleep(until: start.advanced(by: .seconds(second)), clock: .continuous)
                if Task.isCancelled { break }
                let calls = counters.calls.load(ordering: .relaxed)
                Console.out("progress: \(second)s calls=\(calls) qps=\(calls / second) errors=\(counters.errors.load(ordering: .relaxed))")
                second += 1
            }
        }
        let histogram = await withTaskGroup(of: Histogram<UInt64>.self) { workers in
            for worker in 0..<concurrency {
                workers.addTask(executorPreference: transport.taskExecutor(forConnection: worker)) {
                    var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
                    while ContinuousClock.now < end {
                        let began = ContinuousClock.now
                        do {
                            switch method {
                            case .echo: _ = try await client.echo(message: text, options: options)
                            case .ping: try await client.ping(options: options)
                            case .echoItem: _ = try await client.echoItem(item: item, options: options)
                            }
                            let elapsed = began.duration(to: .now)
                            _ = latencies.record(UInt64(elapsed.components.seconds) * 1_000_000_000
                                                 + UInt64(elapsed.components.attoseconds / 1_000_000_000))
                            counters.calls.add(1, ordering: .relaxed)
                        } catch {
                            if counters.errors.wrappingAdd(1, ordering: .relaxed).oldValue == 0 {
                                Console.error("apus bench: first error: \(error)")
                            }
                        }
                    }
                    return latencies
                }
            }
            var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
            for await latencies in workers { merged.add(latencies) }
            return merged
        }
        let elapsed = start.duration(to: .now)
        progress.cancel()
        await transport.close()
        try await group.shutdownGracefully()

        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let calls = Int(histogram.totalCount)
        let errors = counters.errors.load(ordering: .relaxed)
        let qps = Double(calls) / seconds
        func micros(_ percentile: Double) -> Double { Double(histogram.valueAtPercentile(percentile)) / 1000 }
        let maxMicros = Double(histogram.max) / 1000
        if json {
            Console.out("{\"qps\":\(rounded(qps)),\"calls\":\(calls),\"errors\":\(errors),\"p50_us\":\(rounded(micros(50))),"
                  + "\"p90_us\":\(rounded(micros(90))),\"p99_us\":\(rounded(micros(99))),\"p999_us\":\(rounded(micros(99.9))),"
                  + "\"max_us\":\(rounded(maxMicros))}")
        } else {
            Console.out("""
                apus bench: \(method.rawValue) \(payload) B, \(connections) connection(s), \(concurrency) in flight, \(self.protocol)/\(framing)
                  calls   \(calls) in \(rounded(seconds)) s, errors \(errors)
                  qps     \(rounded(qps))
                  latency p50 \(rounded(micros(50))) µs  p90 \(rounded(micros(90))) µs  p99 \(rounded(micros(99))) µs  p999 \(rounded(micros(99.9))) µs  max \(rounded(maxMicros)) µs
                """)
        }
        if calls == 0 { throw ExitCode(1) }
    }

    private func rounded(_ value: Double) -> String {
        String(Double(Int((value * 10).rounded())) / 10)
    }

    final class Counters: Sendable {
        let calls = Atomic<Int>(0)
        let errors = Atomic<Int>(0)
    }
}

extension ThriftProtocolID: ExpressibleByArgument {}
