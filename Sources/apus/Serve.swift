import ApusEtcd
import ApusExamples
import ApusNet
import ApusRPC
import ApusTesting
import ApusThrift
import ApusTransportPosix
import ApusTransportXDP
import ApusXSK
import ArgumentParser
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// `apus serve`: the Echo and KV services of Examples/echo.thrift on one port,
/// over kernel sockets or over Apus's own TCP on AF_XDP.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the Echo and KV services (Examples/echo.thrift) on one port.",
        discussion: """
            Methods answer to plain names (echo) and multiplexed names (Echo:echo). \
            SIGTERM or SIGINT: stop accepting, let in-flight calls finish (up to --grace-period), exit.

            --transport xdp serves on AF_XDP queues of --interface with Apus's own TCP/IP, owning \
            --address (needs root, or the capabilities README lists, and Apus's XDP program loaded on IF: README, "Loading the XDP program"). \
            --transport auto (the default) does that when --interface is given and all of it is there, \
            and otherwise serves on kernel sockets at --host; it prints which and why.

            --register etcd://HOST:PORT/PREFIX lists the server in etcd under PREFIX/SERVICE/HOST:PORT \
            (on a lease renewed while it serves) for clients that discover it (apus bench --discover). \
            On SIGTERM it deregisters first, keeps serving --deregister-delay seconds while clients drop it, \
            then drains; killed, it drops out of etcd within --registration-ttl.
            """
    )

    enum TransportChoice: String, ExpressibleByArgument, CaseIterable { case auto, kernel, xdp }
    enum KernelIO: String, ExpressibleByArgument, CaseIterable { case epoll, nio }
    enum ProtocolChoice: String, ExpressibleByArgument, CaseIterable { case auto, binary, compact }
    enum FramingChoice: String, ExpressibleByArgument, CaseIterable { case auto, framed, buffered }

    @Option(help: "Data path: kernel (TCP sockets), xdp (AF_XDP), or auto.")
    var transport: TransportChoice = .auto
    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"
    @Option(parsing: .unconditional, help: "Port to listen on (0: any free port; the log line says which).")
    var port = 9090
    @Option(help: "What the server accepts: binary, compact, or auto (sniffed per message, and answered in kind; THeader and TTHeader frames too). Clients (apus bench) send binary unless told otherwise.")
    var `protocol`: ProtocolChoice = .auto
    @Option(help: "framed, buffered, or auto (sniffed per connection).")
    var framing: FramingChoice = .auto
    @Option(help: "Largest frame (and unframed message) accepted, in bytes; larger ones close the connection.")
    var maxFrame = ThriftLimits.default.maxFrameSize
    @Option(parsing: .unconditional, help: "Seconds a message may take from its first byte, plus one per --min-read-rate bytes received; then the connection is reset.")
    var readTimeout = 10.0
    @Option(parsing: .unconditional, help: "Bytes per second a message in progress must keep arriving at (0: the whole message within --read-timeout).")
    var minReadRate = 1024
    @Option(parsing: .unconditional, help: "Seconds a connection with no call in progress may stay silent before it is closed (0: never).")
    var idleTimeout = 600.0
    @Option(help: "Event-loop threads (default: one per CPU this process may run on, so `taskset` is respected).")
    var threads: Int?
    @Option(help: "Kernel sockets: epoll (Apus's own loops: one read and one write per call) or nio (SwiftNIO; always used for TLS).")
    var kernelIo: KernelIO = .epoll
    @Option(parsing: .unconditional, help: "Seconds in-flight calls get to finish at shutdown.")
    var gracePeriod = 10.0
    @Option(parsing: .unconditional, help: "Reject calls beyond this many running at once (0: no limit).")
    var maxConcurrentCalls = 0
    @Option(parsing: .unconditional, help: "Answer DEADLINE_EXCEEDED to calls running longer than this many seconds and cancel them (0: no limit).")
    var callTimeout = 0.0
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info
    @Flag(help: "Log every call (method, peer, duration, outcome).")
    var logCalls = false
    @Option(help: "Serve Prometheus metrics at http://HOST:PORT/metrics (calls, errors and latency per method; AF_XDP queue counters).")
    var metrics: String?

    @Option(help: "Serve TLS with this certificate chain (PEM; with --tls-key). Kernel sockets only.")
    var tlsCert: String?
    @Option(help: "The private key of --tls-cert (PEM).")
    var tlsKey: String?
    @Option(help: "Verify client certificates against this CA (PEM): when presented, or always with --tls-require-client-cert.")
    var tlsCa: String?
    @Flag(help: "Mutual TLS: refuse clients without a certificate signed by --tls-ca.")
    var tlsRequireClientCert = false

    @Option(help: "Register in etcd while serving: etcd://HOST:PORT/PREFIX.")
    var register: String?
    @Option(help: "With --register: the service name (the key is PREFIX/SERVICE/HOST:PORT).")
    var service = "echo"
    @Option(parsing: .unconditional, help: "With --register: this server's share of calls relative to the others.")
    var weight = 1
    @Option(help: "With --register: the address clients dial (default: --host, or --address with AF_XDP).")
    var advertise: String?
    @Option(parsing: .unconditional, help: "With --register: seconds the entry outlives a server killed without deregistering (its lease).")
    var registrationTtl = 10
    @Option(parsing: .unconditional, help: "With --register: seconds to keep serving after deregistering at shutdown, before draining.")
    var deregisterDelay = 1.0

    @Option(parsing: .unconditional, help: .hidden)  // testing: echo sleeps this many milliseconds (a slow server)
    var echoDelay = 0

    @Option(help: "AF_XDP: interface with Apus's XDP program.")
    var interface: String?
    @Option(name: [.customLong("queues"), .customLong("queue")], help: "AF_XDP: RX queues to serve, one pinned thread each (e.g. 0,1), or all (every RX queue of --interface).")
    var queues = "0"
    @Option(name: [.customLong("cpus"), .customLong("cpu")], help: "AF_XDP: CPUs for the queue threads, in queue order (default: the CPUs this process may use).")
    var cpus: String?
    @Option(help: "AF_XDP: the IPv4 address to serve on: one Apus owns (configured in no kernel), or the kernel's own address on --interface, of which Apus takes only --port.")
    var address: String?
    @Option(help: "AF_XDP: what the XDP program steers to Apus: address (all of an address of Apus's own) or ports (only --port of the kernel's address). Default: ports when the kernel has --address on --interface, else address.")
    var steer: XDPPlacement.Steering?
    @Option(help: "AF_XDP: prefix length of the on-link subnet (default: the kernel's subnet on --interface that holds --address).")
    var prefixLength: Int?
    @Option(help: "AF_XDP: router for clients on other subnets (default: the kernel's default gateway through --interface).")
    var gateway: String?
    @Option(help: "AF_XDP: serve on this 802.1Q VLAN of --interface (frames tagged with it, replies tagged; prefix, MTU and gateway from the kernel's VLAN interface, if any).")
    var vlan: UInt16?
    @Option(help: "AF_XDP: largest IPv4 packet (default: the interface's MTU, at most 3822 with 4 KiB frames).")
    var mtu: Int?
    @Option(help: "AF_XDP: how the XDP program must be attached: native or skb (checked, not changed).")
    var mode: AttachMode?
    @Option(name: .customLong("zero-copy"), help: "AF_XDP: auto, on or off.")
    var zeroCopy: XDP.ZeroCopyChoice = .auto
    @Flag(help: "AF_XDP: busy-poll the rings (and the driver) instead of sleeping when idle.")
    var busyPoll = false
    @Option(help: "AF_XDP: UMEM frames per queue (half of them, at least 2048, size the rings).")
    var frames: UInt32 = 16384
    @Option(help: "AF_XDP: idle loop passes before sleeping in poll().")
    var idleSpins = 0
    @Option(help: "At most this many microseconds polling for the next packet (AF_XDP) or event (epoll) before sleeping, as much of it as the traffic repays (0: sleep at once).")
    var spinLimit = 50
    @Option(help: "AF_XDP: at most this many frames read per loop pass before the replies they produced are sent (fewer: the client gets its first replies sooner and works while the server goes on; more: fewer transmits and wake-ups per call). Default: 8.")
    var receiveBatch: Int?
    @Option(help: "AF_XDP: impair frames in both directions (testing): loss=P%,reorder=P%,duplicate=P%,delay=D,seed=N.")
    var impair: String?
    @Option(help: "AF_XDP: connections per queue; beyond, new clients get SYN cookies, then RSTs.")
    var maxConnections = 65536
    @Option(help: "AF_XDP: MiB of TCP buffers per queue (allocated as data flows); beyond, data waits and new clients are refused.")
    var maxBufferMemory = 1024
    @Flag(help: "AF_XDP: accept TCP/UDP checksums that hold only the pseudo-header sum (a veth peer with tx checksum offload on; never on a real wire).")
    var acceptPartialChecksums = false

    enum AttachMode: String, ExpressibleByArgument, CaseIterable { case native, skb }

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535, got \(port)") }
        guard maxFrame > 0 else { throw ValidationError("--max-frame must be positive") }
        guard readTimeout > 0 else { throw ValidationError("--read-timeout must be positive") }
        guard minReadRate >= 0 else { throw ValidationError("--min-read-rate must be 0 or positive") }
        guard idleTimeout >= 0 else { throw ValidationError("--idle-timeout must be 0 (never) or positive") }
        guard (threads ?? 1) >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard spinLimit >= 0 else { throw ValidationError("--spin-limit must be 0 (no spinning) or positive") }
        if let receiveBatch, !(1...4096).contains(receiveBatch) {
            throw ValidationError("--receive-batch must be 1...4096 frames, got \(receiveBatch)")
        }
        guard (64...(1 << 20)).contains(frames) else { throw ValidationError("--frames must be 64...1048576, got \(frames)") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
        guard (1...(1 << 20)).contains(maxBufferMemory) else { throw ValidationError("--max-buffer-memory must be 1...1048576 (MiB)") }
        guard gracePeriod >= 0 else { throw ValidationError("--grace-period must be 0 or positive") }
        guard callTimeout >= 0 else { throw ValidationError("--call-timeout must be 0 (none) or positive") }
        guard maxConcurrentCalls >= 0 else { throw ValidationError("--max-concurrent-calls must be 0 (no limit) or positive") }
        if transport == .xdp {
            guard let interface else { throw ValidationError("--transport xdp needs --interface IF (the interface with Apus's XDP program)") }
            guard address != nil else { throw ValidationError("--transport xdp needs --address A (the IPv4 address Apus owns on \(interface))") }
        }
        if tlsCert != nil || tlsKey != nil || tlsCa != nil || tlsRequireClientCert {
            guard tlsCert != nil, tlsKey != nil else { throw ValidationError("TLS needs both --tls-cert and --tls-key") }
            guard !tlsRequireClientCert || tlsCa != nil else {
                throw ValidationError("--tls-require-client-cert needs --tls-ca, the CA that signs the client certificates")
            }
            guard transport != .xdp else {
                throw ValidationError("TLS is served on kernel sockets only: Apus's own TCP on AF_XDP has no TLS yet (use --transport kernel)")
            }
        }
        if let metrics {
            guard let endpoint = try? Endpoint(parsing: Substring(metrics)) else {
                throw ValidationError("--metrics must be HOST:PORT (e.g. 127.0.0.1:9464), got '\(metrics)'")
            }
            guard endpoint.port != port || transport == .xdp else { throw ValidationError("--metrics needs a port other than --port") }
        }
        if let register {
            do throws(EtcdError) { _ = try EtcdURL(parsing: register) } catch { throw ValidationError("--register: \(error)") }
            guard !service.isEmpty, !service.contains("/") else { throw ValidationError("--service must be one name without '/'") }
            guard weight >= 1 else { throw ValidationError("--weight must be at least 1") }
            guard registrationTtl >= 1 else { throw ValidationError("--registration-ttl must be at least 1 (seconds)") }
            guard deregisterDelay >= 0 else { throw ValidationError("--deregister-delay must be 0 or positive") }
        }
    }

    /// `--register`: the etcd entry to keep while serving, and what it says.
    func registration(transport chosen: Choice, logger: Logger) -> EtcdRegistration? {
        guard let register, let url = try? EtcdURL(parsing: register) else { return nil }
        let (transportName, ownAddress): (String, String?) = switch chosen {
        case .kernel: ("kernel", host == "0.0.0.0" || host == "::" ? nil : host)
        case .xdp: ("xdp", address)
        }
        return EtcdRegistration(url: url, service: service, advertisedHost: advertise ?? ownAddress, weight: weight,
                                transport: transportName, protocol: self.protocol.rawValue, ttlSeconds: registrationTtl,
                                logger: logger)
    }

    func run() async throws {
        do {
            try await serve()
        } catch let error as RPCError {
            // Listening failed (a busy port, a missing address): the message says what and what to do.
            Console.error("apus serve: \(error.message)")
            throw ExitCode(1)
        }
    }

    private func serve() async throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "apus.serve")

        var limits = ThriftLimits.default
        limits.maxFrameSize = maxFrame
        limits.maxMessageSize = min(limits.maxMessageSize, maxFrame)
        let framing = self.framing == .auto ? nil : ThriftFraming(rawValue: self.framing.rawValue)
        let protocolID = self.protocol == .auto ? nil : ThriftProtocolID(rawValue: self.protocol.rawValue)

        let chosen = try chooseTransport()
        let registration = registration(transport: chosen, logger: logger)
        switch chosen {
        case .kernel(let why):
            var configuration = PosixServerTransport.Configuration(
                connection: connectionPolicy(framing: framing, protocolID: protocolID, limits: limits))
            if let tlsCert, let tlsKey {
                do throws(TLSFileError) {
                    configuration.tls = try TLSFiles.server(certificateChain: tlsCert, privateKey: tlsKey, trustRoots: tlsCa,
                                                            requireClientCertificate: tlsRequireClientCert)
                    configuration.tlsHandshakeTimeout = .nanoseconds(Int64(readTimeout * 1e9))
                } catch {
                    Console.error("apus serve: TLS: \(error)")
                    throw ExitCode(1)
                }
            }
            let threads = self.threads ?? Serve.usableCPUs()
            if configuration.tls == nil && kernelIo == .epoll {
                let transport = EpollServerTransport(host: host, port: port, configuration: .init(
                    connection: configuration.connection, backlog: configuration.backlog, threads: threads,
                    spinLimit: .microseconds(spinLimit)))
                try await serve(transport, limits: limits, logger: logger, chosen: why, registration: registration)
            } else {
                let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
                let transport = PosixServerTransport(host: host, port: port, configuration: configuration, group: group)
                try await serve(transport, limits: limits, logger: logger, chosen: why, registration: registration)
                try await group.shutdownGracefully()
            }
        case .xdp(let why):
            let transport = XDPServerTransport(configuration: try xdpConfiguration(framing: framing, protocolID: protocolID, limits: limits),
                                               logger: logger)
            do {
                try await serve(transport, limits: limits, logger: logger, chosen: why, registration: registration)
            } catch let error as XSKError {
                Console.error("apus serve: \(error)")
                throw ExitCode(1)
            }
        }
    }

    enum Choice {
        case kernel(String)
        case xdp(String)
    }

    /// `--transport`: what to serve on, and why (printed on the listening line).
    func chooseTransport() throws -> Choice {
        switch transport {
        case .kernel:
            return .kernel("kernel")
        case .xdp:
            guard let interface else { throw ValidationError("--transport xdp needs --interface IF (the interface with Apus's XDP program)") }
            guard address != nil else { throw ValidationError("--transport xdp needs --address A (the IPv4 address Apus owns on \(interface))") }
            return .xdp("xdp")
        case .auto:
            guard let interface else { return .kernel("kernel (auto: no --interface given)") }
            if tlsCert != nil { return .kernel("kernel (auto: TLS is served on kernel sockets only)") }
            if let reason = XDPPlacement.unavailableReason(interface: interface) { return .kernel("kernel (auto: \(reason))") }
            guard address != nil else { return .kernel("kernel (auto: no --address for Apus to own on \(interface))") }
            return .xdp("xdp (auto: \(interface) has the Apus XDP program and this process may use it)")
        }
    }

    /// The per-connection policy the flags ask for, the same on both transports.
    func connectionPolicy(framing: ThriftFraming?, protocolID: ThriftProtocolID?, limits: ThriftLimits) -> ServerConnectionPolicy {
        ServerConnectionPolicy(framing: framing, protocol: protocolID, limits: limits, readTimeout: .seconds(readTimeout),
                               minimumReadRate: minReadRate, idleTimeout: idleTimeout > 0 ? .seconds(idleTimeout) : nil)
    }

    func xdpConfiguration(framing: ThriftFraming?, protocolID: ThriftProtocolID?, limits: ThriftLimits) throws -> XDPServerTransport.Configuration {
        let interface = self.interface!
        func fail(_ message: String) -> ExitCode {
            Console.error("apus serve: \(message)")
            return ExitCode(1)
        }
        guard (1...65535).contains(port) else { throw fail("--transport xdp needs a fixed --port (1...65535)") }
        let attached = XDPPlacement.attachMode(of: interface)
        if let mode {
            guard let attached else {
                throw fail("no XDP program is attached to \(interface): load it with " + XDPProgramMaps.loadHint(interface, mode: mode.rawValue))
            }
            guard attached == mode.rawValue else {
                throw fail("the XDP program on \(interface) is attached in \(attached) mode, not \(mode.rawValue):"
                           + " reload it with " + XDPProgramMaps.loadHint(interface, mode: mode.rawValue))
            }
        }
        var socket = XSKSocket.Configuration()
        socket.frameCount = frames
        socket.mode = attached == "skb" && zeroCopy == .auto ? .copy : zeroCopy.mode
        socket.busyPoll = busyPoll ? XSKSocket.BusyPoll() : nil
        var tcp = TCPConfiguration()
        tcp.timeWaitDuration = .seconds(5)
        let queueList: [UInt32]
        if queues == "all" {
            guard let count = XDPPlacement.receiveQueueCount(of: interface), count > 0 else {
                throw fail("--queues all: cannot count the RX queues of \(interface) (/sys/class/net/\(interface)/queues)")
            }
            queueList = Array(0..<UInt32(count))
        } else {
            queueList = try XDP.parseList(queues)
        }
        var placement = XDPPlacement(interface: interface, queues: queueList,
                                     cpus: try cpus.map { try XDP.parseList($0).map(Int.init) },
                                     address: address!, prefixLength: prefixLength, socket: socket, tcp: tcp)
        placement.steering = steer
        placement.gateway = gateway
        placement.mtu = mtu
        placement.vlan = vlan
        placement.maximumConnections = maxConnections
        placement.maximumBufferMemory = maxBufferMemory << 20
        placement.acceptPartialChecksums = acceptPartialChecksums
        var options = QueueEngine.Options()
        options.busyPoll = busyPoll
        options.idleSpins = idleSpins
        options.spinLimit = .microseconds(spinLimit)
        options.receiveBatch = receiveBatch
        if let impair {
            do throws(ImpairmentSyntaxError) {
                let (impairment, seed) = try LinkImpairment.parse(impair)
                options.deviceWrapper = ImpairingWrapper(impairment, seed: seed)
            } catch { throw fail("--impair: \(error)") }
        }
        options.report = { statistics in
            // `apus xdp stats` shows these while the server runs.
            XSKStatusFile.write(interface: interface, queue: statistics.queue, fields: statistics.summary.split(separator: " ").map { field in
                let parts = field.split(separator: "=", maxSplits: 1)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
            })
        }
        return XDPServerTransport.Configuration(placement: placement, port: UInt16(port),
                                                connection: connectionPolicy(framing: framing, protocolID: protocolID, limits: limits),
                                                engine: options)
    }

    /// Runs the Echo and KV services on `serverTransport` until SIGTERM/SIGINT.
    func serve<Transport: ServerTransport>(_ serverTransport: Transport, limits: ThriftLimits, logger: Logger, chosen: String,
                                           registration: EtcdRegistration?) async throws {
        var router = Router()
        router.register(Echo.service(EchoHandler()))
        if echoDelay > 0 {
            router.intercept(service: Echo.serviceName, method: "echo", with: DelayMiddleware(.milliseconds(echoDelay)))
        }
        router.register(KV.service(InMemoryKV()))

        let limit = maxConcurrentCalls > 0 ? ConcurrencyLimitMiddleware(maxConcurrentCalls: maxConcurrentCalls) : nil
        // --metrics: swift-metrics go to a Prometheus registry, and the outermost layer counts every
        // call, those refused by the concurrency limit too.
        let registry = metrics.map { _ in PrometheusCollectorRegistry() }
        if let registry {
            var factory = PrometheusMetricsFactory(registry: registry)
            // RPCs take microseconds to seconds: buckets from 50 µs up (the default starts at 5 ms).
            factory.defaultDurationHistogramBuckets = [50, 100, 250, 500].map { Duration.microseconds($0) }
                + [1, 2.5, 5, 10, 25, 50, 100, 250, 500].map { Duration.milliseconds($0) } + [1, 2.5, 5, 10].map { Duration.seconds($0) }
            MetricsSystem.bootstrap(factory)
        }
        let callMetrics = registry.map { _ in MetricsMiddleware() }
        // The dispatcher bounds each call's time (no middleware, no task per call).
        let timeout = callTimeout > 0 ? Duration.nanoseconds(Int64(callTimeout * 1e9)) : nil
        let callLog = logCalls ? LoggingMiddleware(logger: logger, level: .info) : nil
        let grace = Duration.nanoseconds(Int64(gracePeriod * 1e9))
        let delay = Duration.nanoseconds(Int64(deregisterDelay * 1e9))
        let server: RPCServer<Transport>
        if limit == nil && callLog == nil && callMetrics == nil {
            // No layers configured: the router alone, nothing to step through per call.
            server = RPCServer(transport: serverTransport, router: router, limits: limits, callTimeout: timeout,
                               gracePeriod: grace, registration: registration, deregistrationDelay: delay, logger: logger)
        } else {
            server = RPCServer(transport: serverTransport, router: router, limits: limits, callTimeout: timeout,
                               gracePeriod: grace, registration: registration, deregistrationDelay: delay, logger: logger) {
                // The last layer runs first: metrics, then the call log, then the limit.
                $0.layer(OptionalMiddleware(limit)).layer(OptionalMiddleware(callLog)).layer(OptionalMiddleware(callMetrics))
            }
        }

        let services = router.services.joined(separator: ",")
        let (protocolName, framingName) = (self.protocol.rawValue, framing.rawValue)
        // Bound before serving, so a busy --metrics port fails at once.
        var boundMetrics: MetricsEndpoint?
        if let registry, let metrics, let endpoint = try? Endpoint(parsing: Substring(metrics)) {
            let xdp = serverTransport as? XDPServerTransport
            do {
                boundMetrics = try await MetricsEndpoint.start(host: endpoint.host, port: endpoint.port,
                                                                  group: MultiThreadedEventLoopGroup.singleton) {
                    registry.emitToString() + XDPMetrics.render(xdp?.engines.map(\.statistics) ?? [])
                }
            } catch {
                let why = (error as? IOError)?.errnoCode == EADDRINUSE ? "it is already in use (choose another --metrics port)" : "\(error)"
                Console.error("apus serve: --metrics \(metrics): cannot listen there: \(why)")
                throw ExitCode(1)
            }
        }
        let metricsEndpoint = boundMetrics
        let serviceGroup = ServiceGroup(configuration: .init(
            services: [.init(service: server, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await serviceGroup.run() }
            tasks.addTask {
                let address = try await server.listeningAddress
                var detail = ""
                if let epoll = serverTransport as? EpollServerTransport {
                    detail = " io=epoll loops=\(epoll.configuration.threads)"
                } else if serverTransport is PosixServerTransport {
                    detail = " io=nio"
                }
                if let xdp = serverTransport as? XDPServerTransport {
                    let placement = xdp.configuration.placement
                    let modes = Set(xdp.engines.map { $0.isZeroCopy ? "zero-copy" : "copy" }).sorted().joined(separator: "+")
                    detail = " interface=\(placement.interface) queues=\(placement.queues.map(String.init).joined(separator: ","))"
                        + " xdp=\(XDPPlacement.attachMode(of: placement.interface) ?? "?") xsk=\(modes)"
                        + " cpus=\(xdp.engines.map { $0.cpu.map(String.init) ?? "-" }.joined(separator: ","))"
                    if let (link, steering) = xdp.network {
                        detail += " steer=\(steering.rawValue) subnet=\(link.subnet.map { "\($0)" } ?? "-")"
                            + " gateway=\(link.gateway.map { "\($0)" } ?? "none") mtu=\(link.mtu)" + (link.vlan.map { " vlan=\($0)" } ?? "")
                    }
                    detail += (busyPoll ? " busy-poll" : "") + (impair.map { " impaired=\($0)" } ?? "")
                }
                var registered = registration.map { " register=\($0)" } ?? ""
                if let metricsEndpoint { registered += " metrics=http://\(metricsEndpoint.address)/metrics" }
                if tlsCert != nil { registered += tlsRequireClientCert ? " tls=mutual" : " tls=on" }
                Console.out("apus serve: listening on \(address) (transport=\(chosen) protocol=\(protocolName) framing=\(framingName)"
                            + " services=\(services)\(detail)\(registered))")
            }
            try await tasks.waitForAll()
        }
        await metricsEndpoint?.close()
        if let xdp = serverTransport as? XDPServerTransport {
            for engine in xdp.finishedEngines {
                XSKStatusFile.remove(interface: xdp.configuration.placement.interface, queue: engine.queue)
                Console.out("apus serve: queue \(engine.queue): \(engine.statistics.summary)")
            }
        }
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

extension XDPPlacement.Steering: ExpressibleByArgument {}
