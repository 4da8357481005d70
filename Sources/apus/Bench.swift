import ApusEtcd
import ApusExamples
import ApusRPC
import ApusTesting
import ApusThrift
import ApusTransportPosix
import ApusTransportXDP
import ApusWire
import ApusXSK
import ArgumentParser
import Histogram
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `apus bench`: a closed-loop load generator on the Apus client.
///
/// `--concurrency` calls are kept in flight, spread over `--connections`
/// pipelined connections; each worker task runs on its connection's event
/// loop (kernel) or on the AF_XDP queue's thread (xdp), so a call and its
/// reply never change threads in the client. `--rate` paces the workers
/// instead, for latency at a given load rather than at saturation.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load-test an Echo server: QPS and latency percentiles.",
        discussion: """
            Prints a progress line every second, then a summary (or, with --json, one JSON object \
            with qps, calls, errors, mismatches, p50_us, p90_us, p99_us, p999_us, max_us).

            --transport xdp calls through Apus's own TCP on an AF_XDP queue of --interface, owning \
            --address (root, and the XDP program loaded on that interface). --calls N makes exactly N \
            calls instead of running for --duration; --verify gives every echo its own payload and \
            counts replies that differ as mismatches (exit status 1 if any call failed or differed).

            --rate R paces the calls: together the workers start R calls a second, each worker one call \
            every --concurrency/R seconds (staggered); a worker that falls behind makes one call at once and \
            skips the slots it missed instead of catching up in a burst. Latency counts from each call's actual \
            start. A worker has one call in flight, so --concurrency must cover R times the latency.

            Many servers: --endpoints A:P,B:P (a static set) or --discover etcd://HOST:PORT/PREFIX --service NAME \
            (the servers `apus serve --register` listed there, followed as they come and go) calls through a \
            load balancer (--lb: p2c, round-robin, or hash on a per-call key), --connections per server, \
            and reports each server's calls and QPS. --idempotent lets a call lost with its server go to another.
            """
    )

    enum MethodChoice: String, ExpressibleByArgument, CaseIterable { case echo, ping, echoItem }

    @Option(help: "Server address.")
    var host = "127.0.0.1"
    @Option(help: "Server port.")
    var port = 9090
    @Option(parsing: .unconditional, help: "Connections in the pool.")
    var connections = 1
    @Option(parsing: .unconditional, help: "Calls in flight at once, over all connections.")
    var concurrency = 1
    @Option(parsing: .unconditional, help: "Seconds to run.")
    var duration = 10.0
    @Option(parsing: .unconditional, help: "Seconds of calls before --duration starts, left out of QPS and latency (errors still count): connections open and caches warm before measuring, which many connections need.")
    var warmup = 0.0
    @Option(parsing: .unconditional, help: "Payload bytes (the echoed string, or the item's title).")
    var payload = 64
    @Option(help: "Method to call.")
    var method: MethodChoice = .echo
    @Option(help: "What the client sends: binary or compact; header and ttheader: binary in a THeader (Apache) or TTHeader (Kitex) frame. (A client must pick one; apus serve's default, auto, answers each in kind.)")
    var `protocol`: ProtocolChoice = .binary
    @Option(help: """
        framed, buffered, theader (Apache's THeader frame, the timeout as client_timeout) or ttheader \
        (Kitex's TTHeader frame, the timeout and method as int keys 12 and 9); --protocol names what is inside.
        """)
    var framing: FramingChoice = .framed
    @Flag(help: .hidden)  // older spelling of --framing theader
    var theader = false

    enum ProtocolChoice: String, ExpressibleByArgument, CaseIterable { case binary, compact, header, ttheader }
    enum FramingChoice: String, ExpressibleByArgument, CaseIterable { case framed, buffered, theader, ttheader }

    /// The Thrift protocol of the messages themselves.
    var innerProtocol: ThriftProtocolID { self.protocol == .compact ? .compact : .binary }
    /// The header frame every call goes in, if any.
    var headerFormat: THeader.Format? {
        if theader || self.protocol == .header || framing == .theader { return .theader }
        if self.protocol == .ttheader || framing == .ttheader { return .ttheader }
        return nil
    }
    /// The framing when no header frame is used.
    var plainFraming: ThriftFraming { framing == .buffered ? .buffered : .framed }
    @Option(help: "Event-loop threads of the client (--kernel-io nio).")
    var threads = 1
    @Option(help: "Kernel sockets: epoll (one loop thread: the requests of a pass in one send per connection) or nio (SwiftNIO, --threads loops; always used for TLS).")
    var kernelIo: Serve.KernelIO = .epoll
    @Option(parsing: .unconditional, help: "Per-call timeout in seconds (over THeader/TTHeader also sent to the server as the call's deadline); 0: none.")
    var timeout = 5.0
    @Flag(help: "Print the summary as one JSON object.")
    var json = false
    @Option(parsing: .unconditional, help: "Make exactly this many calls (0: run for --duration).")
    var calls = 0
    @Flag(help: "Give each echo its own payload and check the reply.")
    var verify = false
    @Option(parsing: .unconditional, help: "Calls started per second over all workers (0: closed loop, each worker calls again at once).")
    var rate = 0.0
    @Option(help: "kernel (TCP sockets) or xdp (Apus's TCP on AF_XDP).")
    var transport: TransportChoice = .kernel
    @Option(help: "xdp: interface with Apus's XDP program.")
    var interface: String?
    @Option(help: "xdp: the IPv4 address this client owns (configured in no kernel).")
    var address: String?
    @Option(help: "xdp: serve on this 802.1Q VLAN of --interface (frames tagged with it).")
    var vlan: UInt16?
    @Option(help: "xdp: prefix length of the on-link subnet (default: the kernel's subnet on --interface that holds --address).")
    var prefixLength: Int?
    // Spelled like serve's --queues/--cpus (the singular also works): the client drives one queue.
    @Option(name: [.customLong("queues"), .customLong("queue")], help: "xdp: the RX queue to drive (one; the client has one queue thread).")
    var queue: UInt32 = 0
    @Option(name: [.customLong("cpus"), .customLong("cpu")], help: "xdp: CPU for the queue's thread.")
    var cpu: Int?
    @Flag(help: "xdp: busy-poll instead of sleeping when idle.")
    var busyPoll = false
    @Option(help: "xdp: UMEM frames of the queue (half of them, at least 2048, size the rings: what a burst of replies from many connections lands in).")
    var frames: UInt32 = 16384
    @Option(help: "At most this many microseconds polling for the next packet (xdp) or, with calls awaiting replies, event (kernel, epoll) before sleeping, as much of it as the traffic repays (0: sleep at once).")
    var spinLimit = 50
    @Option(name: .customLong("zero-copy"), help: "xdp: auto, on or off.")
    var zeroCopy: XDP.ZeroCopyChoice = .auto
    @Option(help: "xdp: impair frames in both directions (testing): loss=P%,reorder=P%,duplicate=P%,delay=D,seed=N.")
    var impair: String?

    @Option(help: "Call a set of servers instead of --host/--port: host:port,host:port.")
    var endpoints: String?
    @Option(help: "Call the servers registered in etcd (etcd://HOST:PORT/PREFIX, with --service) or behind a DNS name (dns://NAME:PORT, re-resolved every 5 s).")
    var discover: String?
    @Option(help: "With --discover: the service name.")
    var service = "echo"
    @Option(help: "With --endpoints or --discover: p2c, round-robin, or hash (each worker's calls keyed by worker and call number mod 100).")
    var lb: LoadBalancingPolicy = .powerOfTwoChoices
    @Flag(help: "Send the calls as idempotent: one lost with its server's connection is sent again to another.")
    var idempotent = false
    @Flag(help: "Connect with TLS (kernel sockets), verifying the server against the system's CAs or --tls-ca.")
    var tls = false
    @Option(help: "TLS: verify the server against this CA (PEM); implies --tls.")
    var tlsCa: String?
    @Option(help: "TLS: present this client certificate (PEM; with --tls-key) for mutual TLS; implies --tls.")
    var tlsCert: String?
    @Option(help: "TLS: the private key of --tls-cert (PEM).")
    var tlsKey: String?
    @Option(help: "TLS: the name the server's certificate must carry (default: --host when it is a name).")
    var tlsServerName: String?
    @Flag(help: "Print each progress line as a JSON object (with each server's calls when balancing), for scripts.")
    var progressJSON = false

    enum TransportChoice: String, ExpressibleByArgument, CaseIterable { case kernel, xdp }

    /// The servers to balance over, when more than --host/--port.
    var endpointSource: (any EndpointSource)? {
        get throws {
            if let endpoints {
                do throws(EndpointError) { return StaticEndpoints(try Endpoint.parseList(endpoints)) } catch {
                    throw ValidationError("--endpoints: \(error)")
                }
            }
            if let discover, discover.hasPrefix("dns://") {
                guard let endpoint = try? Endpoint(parsing: discover.dropFirst("dns://".count)) else {
                    throw ValidationError("--discover: expected dns://NAME:PORT, got '\(discover)'")
                }
                return DNSEndpoints(name: endpoint.host, port: endpoint.port, interval: .seconds(5))
            }
            if let discover {
                do throws(EtcdError) { return EtcdEndpointSource(url: try EtcdURL(parsing: discover), service: service) } catch {
                    throw ValidationError("--discover: \(error)")
                }
            }
            return nil
        }
    }

    var usesTLS: Bool { tls || tlsCa != nil || tlsCert != nil || tlsKey != nil || tlsServerName != nil }

    /// The pools' TLS, from the --tls-* files.
    func tlsConfiguration() throws -> TLSConfiguration? {
        guard usesTLS else { return nil }
        do throws(TLSFileError) {
            return try TLSFiles.client(trustRoots: tlsCa, certificateChain: tlsCert, privateKey: tlsKey)
        } catch {
            throw ValidationError("TLS: \(error)")
        }
    }

    func validate() throws {
        guard spinLimit >= 0 else { throw ValidationError("--spin-limit must be 0 (no spinning) or positive") }
        let formats = Set([theader ? "theader" : nil, [.header: "theader", .ttheader: "ttheader"][self.protocol],
                           [.theader: "theader", .ttheader: "ttheader"][framing]].compactMap { $0 })
        guard formats.count <= 1 else { throw ValidationError("--protocol and --framing name different header frames: \(formats.sorted())") }
        if headerFormat != nil && framing == .buffered {
            throw ValidationError("THeader and TTHeader are framed: --framing buffered does not combine with them")
        }
        guard connections >= 1 else { throw ValidationError("--connections must be at least 1") }
        guard (64...(1 << 20)).contains(frames) else { throw ValidationError("--frames must be 64...1048576, got \(frames)") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 (none) or positive") }
        if warmup > 0 && calls > 0 { throw ValidationError("--warmup is for runs of --duration, not --calls") }
        guard timeout >= 0 else { throw ValidationError("--timeout must be 0 (none) or positive") }
        guard payload >= 0 else { throw ValidationError("--payload must be at least 0") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard calls >= 0 else { throw ValidationError("--calls must be at least 0") }
        guard rate == 0 || (0.001...1e9).contains(rate) else {
            throw ValidationError("--rate must be 0 (closed loop) or 0.001...1e9 calls per second")
        }
        if verify && method == .ping { throw ValidationError("--verify needs --method echo or echoItem") }
        if usesTLS {
            guard transport == .kernel else { throw ValidationError("TLS is for kernel sockets: Apus's own TCP on AF_XDP has no TLS yet") }
            _ = try tlsConfiguration()
        }
        if endpoints != nil || discover != nil {
            guard endpoints == nil || discover == nil else { throw ValidationError("--endpoints and --discover are two sources: give one") }
            guard transport == .kernel else { throw ValidationError("--endpoints and --discover balance over kernel-socket pools: use --transport kernel") }
            _ = try endpointSource
        }
        if transport == .xdp {
            guard interface != nil else { throw ValidationError("--transport xdp needs --interface IF") }
            guard address.flatMap(IPv4Address.init) != nil else {
                throw ValidationError("--transport xdp needs --address A, the IPv4 address this client owns (e.g. 10.10.0.20)")
            }
            guard IPv4Address(host) != nil else { throw ValidationError("--transport xdp needs --host as an IPv4 address") }
        }
    }

    func run() async throws {
        if let source = try endpointSource {
            try await runBalanced(source)
            return
        }
        switch transport {
        case .kernel where kernelIo == .epoll && !usesTLS:
            var configuration = EpollClientTransport.Configuration(framing: plainFraming, protocol: innerProtocol, connections: connections)
            configuration.header = headerFormat
            configuration.spinLimit = .microseconds(spinLimit)
            let transport: EpollClientTransport
            do {
                transport = try EpollClientTransport(host: host, port: port, configuration: configuration)
            } catch {
                Console.error("apus bench: cannot start the client's epoll loop: \(error)")
                throw ExitCode(1)
            }
            let outcome = await measure(Echo.Client(transport), executors: [transport.taskExecutor])
            await transport.close()
            try report(outcome, path: "kernel TCP")
        case .kernel:
            let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
            var configuration = PosixClientTransport.Configuration(framing: plainFraming, protocol: innerProtocol, connections: connections)
            configuration.header = headerFormat
            configuration.tls = try tlsConfiguration()
            configuration.tlsServerName = tlsServerName
            let transport = PosixClientTransport(host: host, port: port, configuration: configuration, group: group)
            let executors = (0..<connections).map { transport.taskExecutor(forConnection: $0) }
            let outcome = await measure(Echo.Client(transport), executors: executors)
            await transport.close()
            try await group.shutdownGracefully()
            try report(outcome, path: "kernel TCP")
        case .xdp:
            var socket = XSKSocket.Configuration()
            socket.frameCount = frames
            socket.mode = zeroCopy.mode
            socket.busyPoll = busyPoll ? XSKSocket.BusyPoll() : nil
            var placement = XDPPlacement(interface: interface!, queues: [queue], cpus: cpu.map { [$0] }, address: address!,
                                         prefixLength: prefixLength, socket: socket)
            placement.vlan = vlan
            var options = QueueEngine.Options()
            options.busyPoll = busyPoll
            options.spinLimit = .microseconds(spinLimit)
            if let impair {
                do throws(ImpairmentSyntaxError) {
                    let (impairment, seed) = try LinkImpairment.parse(impair)
                    options.deviceWrapper = ImpairingWrapper(impairment, seed: seed)
                } catch {
                    Console.error("apus bench: --impair: \(error)")
                    throw ExitCode(1)
                }
            }
            let transport: XDPClientTransport
            do {
                var configuration = XDPClientTransport.Configuration(
                    placement: placement, server: IPv4Address(host)!, port: UInt16(port), framing: plainFraming, protocol: innerProtocol,
                    connections: connections, engine: options)
                configuration.header = headerFormat
                transport = try await XDPClientTransport.start(configuration)
            } catch {
                Console.error("apus bench: \(error)")
                throw ExitCode(1)
            }
            let outcome = await measure(Echo.Client(transport), executors: [transport.taskExecutor]) { instant in
                await transport.sleep(until: instant)  // the queue's own timers: paced calls stay on its thread
            }
            await transport.close()
            if !json { Console.out("apus bench: client queue: \(transport.statistics.summary)") }
            try report(outcome, path: "Apus TCP on AF_XDP (\(interface!) queue \(queue), owning \(address!))")
        }
    }

    /// Calls through a `LoadBalancer` over one kernel-socket pool per server.
    func runBalanced(_ source: any EndpointSource) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        var pool = PosixClientTransport.Configuration(framing: plainFraming, protocol: innerProtocol, connections: connections)
        pool.header = headerFormat
        pool.tls = try tlsConfiguration()
        pool.tlsServerName = tlsServerName
        let configuration = pool
        let logger = Logger(label: "apus.bench")
        let balancer = LoadBalancer(source: source, configuration: .init(policy: lb), logger: logger) { endpoint in
            PosixClientTransport(host: endpoint.host, port: endpoint.port, configuration: configuration, group: group, logger: logger)
        } closeTransport: { await $0.close() }
        var executors: [any TaskExecutor] = []
        for loop in group.makeIterator() { executors.append(EventLoopTaskExecutor(loop)) }
        // Progress: the servers in the set now. The summary: every one that served in the run.
        let outcome = await measure(Echo.Client(balancer), executors: executors, endpoints: {
            balancer.statistics.filter(\.isInSet).map { ($0.endpoint.id, $0.calls, $0.failures, $0.isEjected, true) }
        })
        let statistics = balancer.statistics
        await balancer.close()
        try await group.shutdownGracefully()
        try report(outcome, path: "kernel TCP, \(lb.rawValue) over \(source)", endpoints: statistics.map {
            ($0.endpoint.id, $0.calls, $0.failures, $0.isEjected, $0.isInSet)
        })
    }

    struct Outcome {
        var histogram: Histogram<UInt64>
        var errors: Int
        var mismatches: Int
        var seconds: Double
        var unreachable: Bool
    }

    /// Runs the workers: each on one of `executors` (round-robin), until `--calls` or `--duration`.
    func measure<Transport: ClientTransport>(
        _ client: Echo.Client<Transport>, executors: [any TaskExecutor],
        sleep: @escaping @Sendable (ContinuousClock.Instant) async -> Void = { await Bench.wait(until: $0) },
        endpoints: (@Sendable () -> [EndpointShare])? = nil
    ) async -> Outcome {
        let counters = Counters()
        let text = String(repeating: "x", count: payload)
        let item = Item(id: 42, title: text)
        let options = CallOptions(timeout: timeout > 0 ? .nanoseconds(Int64(timeout * 1e9)) : nil, idempotent: idempotent ? true : nil)
        let keyed = lb == .consistentHash
        let (method, verify, totalCalls, concurrency) = (self.method, self.verify, self.calls, self.concurrency)
        // --rate: each worker's calls are due one `pace` apart.
        let pace: Duration? = rate > 0 ? .nanoseconds(max(1, Int64((Double(concurrency) / rate * 1e9).rounded()))) : nil

        // One call first, so a wrong address fails with one clear line rather than a flood.
        do {
            try await client.ping(options: options)
        } catch {
            // An RPCError's message names the endpoint and the reason already.
            Console.error("apus bench: " + ((error as? RPCError)?.message ?? "cannot reach \(host):\(port): \(error)"))
            return Outcome(histogram: Histogram(), errors: 1, mismatches: 0, seconds: 0, unreachable: true)
        }

        // Calls that begin in the warm-up are made but not counted; the figures cover the rest.
        let warmupStart = ContinuousClock.now
        let start = warmupStart.advanced(by: .nanoseconds(Int64(warmup * 1e9)))
        let end = totalCalls > 0 ? start.advanced(by: .seconds(3600)) : start.advanced(by: .nanoseconds(Int64(duration * 1e9)))
        let (quiet, progressJSON) = (json && !self.progressJSON, self.progressJSON)
        let progress = Task {
            var second = 1
            var lastCalls = 0
            while !Task.isCancelled {
                try? await Task.sleep(until: start.advanced(by: .seconds(second)), clock: .continuous)
                if Task.isCancelled { break }
                let calls = counters.calls.load(ordering: .relaxed)
                let errors = counters.errors.load(ordering: .relaxed)
                let shares = endpoints?() ?? []
                if progressJSON {
                    let perEndpoint = shares.map { "\"\($0.id)\":\($0.calls)" }.joined(separator: ",")
                    Console.out("{\"progress_s\":\(second),\"calls\":\(calls),\"errors\":\(errors),\"endpoints\":{\(perEndpoint)}}")
                } else if !quiet {
                    let perEndpoint = shares.isEmpty ? "" : " " + shares.map { "\($0.id)=\($0.calls)\($0.ejected ? "(ejected)" : "")" }.joined(separator: " ")
                    // calls and errors so far; qps over the last second (the summary has the run's).
                    Console.out("progress: \(second)s calls=\(calls) qps=\(calls - lastCalls) errors=\(errors)\(perEndpoint)")
                }
                lastCalls = calls
                second += 1
            }
        }
        // One histogram per executor, shared by its workers: one per worker (200 KiB each) put every
        // record in a different cold block, a cache miss a call (2 GiB of them at 10,000 workers).
        var byExecutor: [ObjectIdentifier: LatencyRecorder] = [:]
        let recorders = executors.map { executor in
            if let known = byExecutor[ObjectIdentifier(executor)] { return known }
            let recorder = LatencyRecorder()
            byExecutor[ObjectIdentifier(executor)] = recorder
            return recorder
        }
        let distinct = Array(byExecutor.values)
        await withTaskGroup(of: Void.self) { workers in
            for worker in 0..<concurrency {
                let latencies = recorders[worker % executors.count]
                workers.addTask(executorPreference: executors[worker % executors.count]) {
                    var serial = 0
                    // Staggered, so the workers' calls spread evenly over each pace.
                    var due = pace.map { warmupStart.advanced(by: $0 * worker / concurrency) }
                    while ContinuousClock.now < end {
                        if totalCalls > 0 && counters.started.wrappingAdd(1, ordering: .relaxed).oldValue >= totalCalls { break }
                        if let pace, let next = due {
                            guard next < end else { break }
                            let now = ContinuousClock.now
                            if next > now { await sleep(next) }
                            // Late: this call goes now and the slots it missed are skipped (no catch-up burst);
                            // the worker stays on its own slots, so late workers never bunch up.
                            let missed = next < now ? Int(next.duration(to: now) / pace) : 0
                            due = next.advanced(by: pace * (missed + 1))
                        }
                        serial += 1
                        var options = options
                        if keyed { options.balancingKey = "w\(worker)-\(serial % 100)" }
                        let began = ContinuousClock.now
                        let counted = began >= start
                        do {
                            var matched = true
                            switch method {
                            case .echo:
                                let message = verify ? Self.uniquePayload(worker: worker, serial: serial, size: text.utf8.count) : text
                                let reply = try await client.echo(message: message, options: options)
                                matched = !verify || reply == message
                            case .ping:
                                try await client.ping(options: options)
                            case .echoItem:
                                let sent = verify ? Item(id: Int64(worker) << 32 | Int64(serial), title: text) : item
                                let reply = try await client.echoItem(item: sent, options: options)
                                matched = !verify || reply == sent
                            }
                            if !matched, counters.mismatches.wrappingAdd(1, ordering: .relaxed).oldValue == 0 {
                                Console.error("apus bench: first mismatch: worker \(worker) call \(serial) got a different reply")
                            }
                            guard counted else { continue }  // a warm-up call: its errors count, its time not
                            let elapsed = began.duration(to: .now)
                            latencies.record(UInt64(elapsed.components.seconds) * 1_000_000_000
                                             + UInt64(elapsed.components.attoseconds / 1_000_000_000))
                            counters.calls.add(1, ordering: .relaxed)
                        } catch {
                            if counters.errors.wrappingAdd(1, ordering: .relaxed).oldValue == 0 {
                                Console.error("apus bench: first error: \(error)")
                            }
                        }
                    }
                }
            }
        }
        var histogram = LatencyRecorder.empty
        for recorder in distinct { recorder.histogram.withLock { _ = histogram.add($0) } }
        let elapsed = start.duration(to: .now)
        progress.cancel()
        return Outcome(histogram: histogram, errors: counters.errors.load(ordering: .relaxed),
                       mismatches: counters.mismatches.load(ordering: .relaxed),
                       seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                       unreachable: false)
    }

    /// Waits until `instant` for a paced call. On an event loop (the kernel transport) on its own
    /// timer, so the call costs no thread hop: `Task.sleep` resumes through the global executor's
    /// threads, which on a client pinned to one core means context switches and added latency.
    /// Elsewhere (the AF_XDP queue's thread) `Task.sleep`, without slack: coalesced wake-ups
    /// would send the workers' calls in bursts.
    static func wait(until instant: ContinuousClock.Instant) async {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else {
            try? await Task.sleep(until: instant, tolerance: .zero, clock: .continuous)
            return
        }
        let (seconds, attoseconds) = ContinuousClock.now.duration(to: instant).components
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loop.scheduleTask(in: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)) { continuation.resume() }
        }
    }

    /// A payload of `size` bytes (at least 16) that names its worker and call.
    static func uniquePayload(worker: Int, serial: Int, size: Int) -> String {
        let tag = "w\(worker)c\(serial)."
        return tag + String(repeating: "y", count: max(0, size - tag.utf8.count))
    }

    /// One server's part of a balanced run: id, calls, failures, ejected at the end, still in the set.
    typealias EndpointShare = (id: String, calls: Int, failures: Int, ejected: Bool, inSet: Bool)

    func report(_ outcome: Outcome, path: String, endpoints: [EndpointShare] = []) throws {
        if outcome.unreachable { throw ExitCode(1) }
        let histogram = outcome.histogram
        let calls = Int(histogram.totalCount)
        let qps = outcome.seconds > 0 ? Double(calls) / outcome.seconds : 0
        func micros(_ percentile: Double) -> Double { Double(histogram.valueAtPercentile(percentile)) / 1000 }
        let maxMicros = Double(histogram.max) / 1000
        if json {
            Console.out("{\"qps\":\(rounded(qps)),\"calls\":\(calls),\"errors\":\(outcome.errors),\"mismatches\":\(outcome.mismatches),"
                  + "\"p50_us\":\(rounded(micros(50))),\"p90_us\":\(rounded(micros(90))),\"p99_us\":\(rounded(micros(99))),"
                  + "\"p999_us\":\(rounded(micros(99.9))),\"max_us\":\(rounded(maxMicros)),\"transport\":\"\(transport.rawValue)\""
                  + (endpoints.isEmpty ? "" : ",\"idempotent\":\(idempotent),\"endpoints\":[" + endpoints.map {
                      "{\"endpoint\":\"\($0.id)\",\"calls\":\($0.calls),\"qps\":\(rounded(outcome.seconds > 0 ? Double($0.calls) / outcome.seconds : 0)),"
                          + "\"failures\":\($0.failures),\"ejected\":\($0.ejected),\"in_set\":\($0.inSet)}"
                  }.joined(separator: ",") + "]") + "}")
        } else {
            Console.out("""
                apus bench: \(method.rawValue) \(payload) B, \(connections) connection(s), \(concurrency) in flight\(rate > 0 ? " at most, paced at \(rounded(rate)) calls/s" : ""), \(innerProtocol)/\(headerFormat?.rawValue ?? plainFraming.rawValue), via \(path)
                  calls   \(calls) in \(rounded(outcome.seconds)) s, errors \(outcome.errors)\(verify ? ", mismatches \(outcome.mismatches)" : "")
                  qps     \(rounded(qps))
                  latency p50 \(rounded(micros(50))) µs  p90 \(rounded(micros(90))) µs  p99 \(rounded(micros(99))) µs  p999 \(rounded(micros(99.9))) µs  max \(rounded(maxMicros)) µs
                """)
            for share in endpoints {
                let qps = outcome.seconds > 0 ? Double(share.calls) / outcome.seconds : 0
                Console.out("  server  \(share.id)  calls \(share.calls)  qps \(rounded(qps))  failed \(share.failures)\(share.ejected ? "  (ejected)" : "")\(share.inSet ? "" : "  (left the set)")")
            }
        }
        if calls == 0 || (self.calls > 0 && (outcome.errors > 0 || outcome.mismatches > 0)) || (verify && outcome.mismatches > 0) {
            throw ExitCode(1)
        }
    }

    private func rounded(_ value: Double) -> String {
        String(Double(Int((value * 10).rounded())) / 10)
    }

    /// Call latencies in nanoseconds, recorded by the workers of one executor (uncontended: they
    /// share its thread, or take turns on a kernel event loop's).
    final class LatencyRecorder: Sendable {
        static var empty: Histogram<UInt64> { Histogram(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three) }
        let histogram = Mutex(LatencyRecorder.empty)

        func record(_ nanoseconds: UInt64) { histogram.withLock { _ = $0.record(nanoseconds) } }
    }

    final class Counters: Sendable {
        let calls = Atomic<Int>(0)
        let errors = Atomic<Int>(0)
        let mismatches = Atomic<Int>(0)
        /// Calls begun, for --calls.
        let started = Atomic<Int>(0)
    }
}

extension ThriftProtocolID: ExpressibleByArgument {}
extension LoadBalancingPolicy: ExpressibleByArgument {}
