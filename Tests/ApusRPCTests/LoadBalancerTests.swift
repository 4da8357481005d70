import ApusExamples
import ApusRPC
import ApusThrift
@testable import ApusTransportPosix
import Synchronization
import Testing

/// `LoadBalancer` over real servers on loopback (kernel sockets): spreading, steering away from
/// a slow server, failing over from a dead one, sets that change under load.
@Suite struct LoadBalancerTests {
    /// A source the test drives: `publish` replaces the set.
    final class ManualEndpoints: EndpointSource {
        let stream: AsyncStream<[Endpoint]>
        let continuation: AsyncStream<[Endpoint]>.Continuation
        init() { (stream, continuation) = AsyncStream.makeStream(of: [Endpoint].self) }
        func endpointSets() -> AsyncStream<[Endpoint]> { stream }
        func publish(_ set: [Endpoint]) { continuation.yield(set) }
        var description: String { "the test's endpoints" }
    }

    final class Load: Sendable {
        let calls = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
    }

    func balancer(_ source: some EndpointSource, _ configuration: LoadBalancer<PosixClientTransport>.Configuration = .init())
        -> LoadBalancer<PosixClientTransport> {
        LoadBalancer(source: source, configuration: configuration, logger: ServerContext.silentLogger) { endpoint in
            PosixClientTransport(host: endpoint.host, port: endpoint.port,
                                 configuration: .init(connections: 1, connectTimeout: .seconds(2)))
        } closeTransport: { await $0.close() }
    }

    func local(_ port: Int) -> Endpoint { Endpoint(host: "127.0.0.1", port: port) }

    /// A port nothing listens on (bound, then released).
    func deadPort() async throws -> Int {
        try await withServer(router: exampleRouter()) { port, _ in port }
    }

    @Test func callsSpreadRoundRobinOverThreeServers() async throws {
        try await withServer(router: exampleRouter()) { a, _ in
            try await withServer(router: exampleRouter()) { b, _ in
                try await withServer(router: exampleRouter()) { c, _ in
                    let lb = balancer(StaticEndpoints([local(a), local(b), local(c)]), .init(policy: .roundRobin))
                    let echo = Echo.Client(lb)
                    for n in 0..<30 {
                        let reply = try await echo.echo(message: "m\(n)")
                        #expect(reply == "m\(n)")
                    }
                    let calls = Set(lb.statistics.map(\.calls))
                    #expect(calls == [10])
                    await lb.close()
                }
            }
        }
    }

    @Test func twoChoicesSendsLessToASlowServer() async throws {
        try await withServer(router: exampleRouter()) { fast, _ in
            try await withServer(router: exampleRouter(echoDelay: .milliseconds(20))) { slow, _ in
                let lb = balancer(StaticEndpoints([local(fast), local(slow)]))
                let echo = Echo.Client(lb)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<8 {
                        group.addTask { for n in 0..<25 { _ = try await echo.echo(message: "w\(worker)-\(n)") } }
                    }
                    try await group.waitForAll()
                }
                let byPort = Dictionary(uniqueKeysWithValues: lb.statistics.map { ($0.endpoint.port, $0.calls) })
                #expect(byPort[fast, default: 0] + byPort[slow, default: 0] == 200)
                // Round robin would give each 100; calls pile up in flight on the slow one instead.
                #expect(byPort[slow, default: 0] < 60, "\(byPort)")
                await lb.close()
            }
        }
    }

    @Test func callsNeverSentFailOverFromADeadServerWhichIsThenEjected() async throws {
        let dead = try await deadPort()
        try await withServer(router: exampleRouter()) { live, _ in
            let lb = balancer(StaticEndpoints([local(dead), local(live)]),
                              .init(policy: .roundRobin, ejection: OutlierEjection(consecutiveFailures: 3, baseEjection: .seconds(30))))
            let echo = Echo.Client(lb)
            // Not idempotent, yet every call succeeds: a refused connection sent nothing.
            for n in 0..<20 {
                let reply = try await echo.echo(message: "m\(n)")
                #expect(reply == "m\(n)")
            }
            let stats = Dictionary(uniqueKeysWithValues: lb.statistics.map { ($0.endpoint.port, $0) })
            #expect(stats[dead]?.isEjected == true)
            #expect(stats[dead]?.failures == 3)
            #expect(stats[live]?.calls == 20)
            await lb.close()
        }
    }

    @Test func aWholeSetDownFailsFastWithUnavailable() async throws {
        let dead1 = try await deadPort()
        let dead2 = try await deadPort()
        // Ejections far longer than the test, so a loaded machine cannot let one lapse between calls.
        let lb = balancer(StaticEndpoints([local(dead1), local(dead2)]),
                          .init(ejection: OutlierEjection(consecutiveFailures: 1, baseEjection: .seconds(30))))
        let echo = Echo.Client(lb)
        let first = await expectRPCError(.unavailable) { try await echo.echo(message: "x") }
        #expect(first?.description.contains("connect") == true, "\(String(describing: first))")
        // Both are ejected now: the next call is refused here, naming why.
        let next = await expectRPCError(.unavailable) { try await echo.echo(message: "x") }
        #expect(next?.description.contains("ejected") == true, "\(String(describing: next))")
        #expect(next?.requestWasNotSent == true)
        await lb.close()

        let empty = balancer(StaticEndpoints([]))
        let none = await expectRPCError(.unavailable) { try await Echo.Client(empty).echo(message: "x") }
        #expect(none?.description.contains("has no endpoints") == true, "\(String(describing: none))")
        await empty.close()
    }

    @Test func anEndpointRemovedUnderLoadFinishesItsCallsAndANewOneGetsTraffic() async throws {
        try await withServer(router: exampleRouter(echoDelay: .milliseconds(5))) { a, _ in
            try await withServer(router: exampleRouter(echoDelay: .milliseconds(5))) { b, _ in
                let source = ManualEndpoints()
                source.publish([local(a)])
                let lb = balancer(source)
                let echo = Echo.Client(lb)
                let load = Load()
                await withTaskGroup(of: Void.self) { group in
                    for worker in 0..<8 {
                        group.addTask {
                            var n = 0
                            while !load.stop.load(ordering: .relaxed) && n < 2_000 {
                                n += 1
                                do {
                                    _ = try await echo.echo(message: "w\(worker)")
                                    load.calls.add(1, ordering: .relaxed)
                                } catch {
                                    load.failures.add(1, ordering: .relaxed)
                                }
                            }
                        }
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                    source.publish([local(a), local(b)])
                    try? await Task.sleep(for: .milliseconds(100))
                    source.publish([local(b)])  // a leaves with calls in flight
                    try? await Task.sleep(for: .milliseconds(100))
                    load.stop.store(true, ordering: .relaxed)
                }
                #expect(load.failures.load(ordering: .relaxed) == 0)
                #expect(lb.endpoints == [local(b)])
                #expect(lb.statistics.first?.calls ?? 0 > 0)
                #expect(load.calls.load(ordering: .relaxed) > 0)
                await lb.close()
            }
        }
    }

    @Test func theSameKeyGoesToTheSameServer() async throws {
        try await withServer(router: exampleRouter()) { a, _ in
            try await withServer(router: exampleRouter()) { b, _ in
                try await withServer(router: exampleRouter()) { c, _ in
                    let lb = balancer(StaticEndpoints([local(a), local(b), local(c)]), .init(policy: .consistentHash))
                    let echo = Echo.Client(lb)
                    for _ in 0..<10 { _ = try await echo.echo(message: "x", options: CallOptions(balancingKey: "user-7")) }
                    #expect(lb.statistics.map(\.calls).sorted() == [0, 0, 10])
                    await lb.close()
                }
            }
        }
    }

    @Test func aDNSNameGivesItsAddresses() async throws {
        try await withServer(router: exampleRouter()) { port, _ in
            // localhost: 127.0.0.1 (served) and perhaps ::1 (refused, so calls fail over from it).
            let lb = balancer(DNSEndpoints(name: "localhost", port: port, interval: .seconds(60)))
            let reply = try await Echo.Client(lb).echo(message: "via dns")
            #expect(reply == "via dns")
            #expect(lb.endpoints.contains(local(port)))
            await lb.close()
        }
        let nowhere = await DNSEndpoints.resolve("no-such-host.invalid")
        guard case .failure(let failure) = nowhere else { Issue.record("resolved a .invalid name"); return }
        #expect(!failure.description.isEmpty)
    }
}
