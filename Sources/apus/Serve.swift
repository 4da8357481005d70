import ApusExamples
import ApusRPC
import ApusThrift
import ApusTransportPosix
import ArgumentParser
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// `apus serve`: the Echo and KV services of Examples/echo.thrift on one port.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the Echo and KV services (Examples/echo.thrift) on one port.",
        discussion: """
            Methods answer to plain names (echo) and multiplexed names (Echo:echo). \
            SIGTERM or SIGINT: stop accepting, let in-flight calls finish (up to --grace-period), exit.
            """
    )

    enum TransportChoice: String, ExpressibleByArgument, CaseIterable { case auto, kernel, xdp }
    enum ProtocolChoice: String, ExpressibleByArgument, CaseIterable { case auto, binary, compact }
    enum FramingChoice: String, ExpressibleByArgument, CaseIterable { case auto, framed, buffered }

    @Option(help: "Data path: kernel (TCP sockets), xdp (AF_XDP), or auto.")
    var transport: TransportChoice = .auto
    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port; the log line says which).")
    var port = 9090
    @Option(help: "binary, compact, or auto (sniffed per message).")
    var `protocol`: ProtocolChoice = .auto
    @Option(help: "framed, buffered, or auto (sniffed per connection).")
    var framing: FramingChoice = .auto
    @Option(help: "Largest frame (and unframed message) accepted, in bytes; larger ones close the connection.")
    var maxFrame = ThriftLimits.default.maxFrameSize
    @Option(help: "Seconds a connection may hold an incomplete message without sending more before it is closed.")
    var readTimeout = 30.0
    @Option(help: "Event-loop threads (default: one per CPU this process may run on, so `taskset` is respected).")
    var threads = Serve.usableCPUs()
    @Option(help: "Seconds in-flight calls get to finish at shutdown.")
    var gracePeriod = 10.0
    @Option(help: "Reject calls beyond this many running at once (0: no limit).")
    var maxConcurrentCalls = 0
    @Option(help: "Cancel calls running longer than this many seconds (0: no limit).")
    var callTimeout = 0.0
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info
    @Flag(help: "Log every call (method, peer, duration, outcome).")
    var logCalls = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535, got \(port)") }
        guard maxFrame > 0 else { throw ValidationError("--max-frame must be positive") }
        guard readTimeout > 0 else { throw ValidationError("--read-timeout must be positive") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() async throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "apus.serve")

        let chosen: String
        switch transport {
        case .kernel: chosen = "kernel"
        case .auto: chosen = "kernel (auto: the AF_XDP transport is not available in this build)"
        case .xdp:
            throw ValidationError("--transport xdp: the AF_XDP transport is not available in this build yet; use --transport kernel")
        }

        var limits = ThriftLimits.default
        limits.maxFrameSize = maxFrame
        limits.maxMessageSize = min(limits.maxMessageSize, maxFrame)
        let configuration = PosixServerTransport.Configuration(
            framing: framing == .auto ? nil : ThriftFraming(rawValue: framing.rawValue),
            protocol: self.protocol == .auto ? nil : ThriftProtocolID(rawValue: self.protocol.rawValue),
            limits: limits,
            readTimeout: .nanoseconds(Int64(readTimeout * 1e9)))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let serverTransport = PosixServerTransport(host: host, port: port, configuration: configuration, group: group)

        var router = Router()
        router.register(Echo.service(EchoHandler()))
        router.register(KV.service(InMemoryKV()))

        let limit = maxConcurrentCalls > 0 ? ConcurrencyLimitMiddleware(maxConcurrentCalls: maxConcurrentCalls) : nil
        let timeout = callTimeout > 0 ? TimeoutMiddleware(.nanoseconds(Int64(callTimeout * 1e9))) : nil
        let callLog = logCalls ? LoggingMiddleware(logger: logger, level: .info) : nil
        let grace = Duration.nanoseconds(Int64(gracePeriod * 1e9))
        let server: RPCServer<PosixServerTransport>
        if limit == nil && timeout == nil && callLog == nil {
            // No layers configured: the router alone, nothing to step through per call.
            server = RPCServer(transport: serverTransport, router: router, limits: limits, gracePeriod: grace, logger: logger)
        } else {
            server = RPCServer(transport: serverTransport, router: router, limits: limits, gracePeriod: grace, logger: logger) {
                // Outermost first: log the call, then reject over the limit, then bound its time.
                $0.layer(OptionalMiddleware(timeout)).layer(OptionalMiddleware(limit)).layer(OptionalMiddleware(callLog))
            }
        }

        let services = router.services.joined(separator: ",")
        let (protocolName, framingName) = (self.protocol.rawValue, framing.rawValue)
        let serviceGroup = ServiceGroup(configuration: .init(
            services: [.init(service: server, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await serviceGroup.run() }
            tasks.addTask {
                let address = try await server.listeningAddress
                Console.out("apus serve: listening on \(address) (transport=\(chosen) protocol=\(protocolName) framing=\(framingName) services=\(services))")
            }
            try await tasks.waitForAll()
        }
        try await group.shutdownGracefully()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

extension Serve {
    /// CPUs in this process's affinity mask (`taskset -c 0` gives 1): more
    /// event loops than CPUs only adds wakeups and context switches.
    static func usableCPUs() -> Int {
        // /proc/self/status has the affinity mask as hex words: "Cpus_allowed:\t3" or "ff,ffffffff".
        guard let file = fopen("/proc/self/status", "r") else { return System.coreCount }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 512)
        var count = 0
        while fgets(&line, 512, file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("Cpus_allowed:") else { continue }
            count = text.dropFirst("Cpus_allowed:".count).compactMap { $0.hexDigitValue?.nonzeroBitCount }.reduce(0, +)
            break
        }
        guard count > 0 else { return System.coreCount }
        return max(1, min(count, System.coreCount))
    }
}
