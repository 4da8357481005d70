import ApusEtcd
import ApusRPC
import Testing

/// Registration and discovery against a real etcd each test starts on
/// loopback. Without an etcd binary the suite is skipped, saying so; CI has
/// one (scripts/setup.sh installs etcd-server). One test at a time: they
/// time leases, and the machine has two cores.
@Suite(.serialized, .enabled(if: EtcdTestServer.isAvailable, "needs the etcd binary: apt-get install etcd-server (bash scripts/setup.sh)"))
struct EtcdDiscoveryTests {
    @Test func aRegisteredServerIsDiscoveredWithItsWeightAndTagsAndLeavesOnDeregister() async throws {
        try await EtcdTestServer.with { etcd in
            let logs = LogRecorder()
            let registration = EtcdRegistration(client: etcd.client, prefix: "/apus/", service: "echo", weight: 3, transport: "xdp",
                                                protocol: "compact", tags: ["blue", "canary"], ttlSeconds: 60, logger: logs.logger)
            let sets = SetRecorder(EtcdEndpointSource(client: etcd.client, prefix: "/apus", service: "echo", logger: logs.logger))
            defer { sets.cancel() }
            #expect(await sets.waitFor { $0.isEmpty } != nil, "the first set comes even when it is empty")

            let maintain = Task { await registration.maintain(listeningOn: PeerAddress("127.0.0.1:9101")) }
            let set = await sets.waitFor { !$0.isEmpty }
            #expect(set == [Endpoint(host: "127.0.0.1", port: 9101, weight: 3, transport: "xdp", protocol: "compact", tags: ["blue", "canary"])])
            #expect(logs.messages(.info).contains { $0.hasPrefix("registered echo at 127.0.0.1:9101") && $0.contains(etcd.endpoint) })
            let keys = try await etcd.client.range(prefix: "/apus/").kvs.map(\.key)
            #expect(keys == ["/apus/echo/127.0.0.1:9101"])

            // As RPCServer shuts down: maintain cancelled, deregister at once. Gone long before the TTL (60 s).
            maintain.cancel()
            let start = ContinuousClock.now
            await registration.deregister()
            await maintain.value
            #expect(await sets.waitFor(timeout: .seconds(20)) { $0.isEmpty } != nil)
            #expect(ContinuousClock.now - start < .seconds(20), "deregistered, not lapsed")
            #expect(try await etcd.client.range(prefix: "/apus/").kvs.isEmpty)
            #expect(logs.messages(.warning).isEmpty)
        }
    }

    @Test func aQuietWatchStartsOverWithoutLosingChangesOrWarning() async throws {
        try await EtcdTestServer.with { etcd in
            let logs = LogRecorder()
            let sets = SetRecorder(EtcdEndpointSource(client: etcd.client, prefix: "/apus", service: "echo",
                                                      quietLimit: .milliseconds(200), logger: logs.logger))
            defer { sets.cancel() }
            #expect(await sets.waitFor { $0.isEmpty } != nil)
            // Quiet for several limits: the watch starts over a few times.
            for _ in 0..<100 where logs.messages(.debug).filter({ $0.contains("no news from") }).count < 3 {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(logs.messages(.debug).filter { $0.contains("no news from") }.count >= 3)
            try await etcd.client.put(key: "/apus/echo/127.0.0.1:9111", value: Array(#"{"host":"127.0.0.1","port":9111}"#.utf8))
            #expect(await sets.waitFor { $0.map(\.port) == [9111] } != nil, "a change after restarts still arrives")
            #expect(logs.messages(.warning).isEmpty, "a quiet restart is not an outage: \(logs.messages(.warning))")
        }
    }

    @Test func aServerKilledWithoutDeregisteringLapsesWithinItsTTL() async throws {
        try await EtcdTestServer.with { etcd in
            let registration = EtcdRegistration(client: etcd.client, prefix: "/apus", service: "echo", ttlSeconds: 2)
            let sets = SetRecorder(EtcdEndpointSource(client: etcd.client, prefix: "/apus", service: "echo"))
            defer { sets.cancel() }
            let maintain = Task { await registration.maintain(listeningOn: PeerAddress("127.0.0.1:9102")) }
            #expect(await sets.waitFor { $0.ids == ["127.0.0.1:9102"] } != nil)
            try await Task.sleep(for: .seconds(1))  // a keepalive or two: the lease is renewed, not just granted

            maintain.cancel()  // the server dies: no deregister, no more keepalives
            let cancelled = ContinuousClock.now
            await maintain.value
            #expect(ContinuousClock.now - cancelled < .seconds(10), "maintain returns when cancelled")
            #expect(try await etcd.client.range(prefix: "/apus/echo/").kvs.count == 1, "cancelling does not deregister")
            #expect(await sets.waitFor(timeout: .seconds(15)) { $0.isEmpty } != nil, "gone after the TTL (2 s) and etcd's expiry check")
            #expect(ContinuousClock.now - cancelled > .seconds(1), "it lapsed; it was not removed")
        }
    }

    @Test func onlyWellFormedEntriesAreDiscoveredAndEachBadOneIsReportedOnce() async throws {
        try await EtcdTestServer.with { etcd in
            let logs = LogRecorder()
            // Written by hand before the source starts (seen by its range) ...
            try await etcd.client.put(key: "/apus/echo/garbage", value: Array("not json".utf8))
            try await etcd.client.put(key: "/apus/echo/no-port", value: Array(#"{"host":"10.0.0.9"}"#.utf8))
            try await etcd.client.put(key: "/apus/other/127.0.0.1:9999", value: Array(#"{"host":"127.0.0.1","port":9999}"#.utf8))
            let sets = SetRecorder(EtcdEndpointSource(client: etcd.client, prefix: "/apus", service: "echo", logger: logs.logger))
            defer { sets.cancel() }
            #expect(await sets.waitFor { $0.isEmpty } != nil)

            let first = EtcdRegistration(client: etcd.client, prefix: "/apus", service: "echo", ttlSeconds: 5, logger: logs.logger)
            let second = EtcdRegistration(client: etcd.client, prefix: "/apus", service: "echo", weight: 2, ttlSeconds: 5, logger: logs.logger)
            let tasks = [
                Task { await first.maintain(listeningOn: PeerAddress("127.0.0.1:9201")) },
                Task { await second.maintain(listeningOn: PeerAddress("0.0.0.0:9202")) },  // advertised as 127.0.0.1
            ]
            // ... and one after (seen by its watch).
            try await etcd.client.put(key: "/apus/echo/port-zero", value: Array(#"{"host":"h","port":0}"#.utf8))
            let set = await sets.waitFor { $0.count == 2 }
            #expect(set == [Endpoint(host: "127.0.0.1", port: 9201, transport: "kernel"),
                            Endpoint(host: "127.0.0.1", port: 9202, weight: 2, transport: "kernel")])
            try await Task.sleep(for: .milliseconds(300))
            #expect(sets.latest?.count == 2)

            let warnings = logs.messages(.warning)
            for key in ["/apus/echo/garbage", "/apus/echo/no-port", "/apus/echo/port-zero"] {
                #expect(warnings.filter { $0.contains(key) }.count == 1, "one warning for \(key)")
            }
            #expect(warnings.contains { $0.contains("0.0.0.0:9202") && $0.contains("--advertise") })
            #expect(warnings.count == 4)
            #expect(try await etcd.client.deleteRange(key: "/apus/echo/garbage") == 1)
            #expect(try await etcd.client.deleteRange(key: "/apus/echo/garbage") == 0)
            for task in tasks { task.cancel() }
            await first.deregister()
            await second.deregister()
        }
    }

    @Test func theClientRangesAndWatchesWithRevisions() async throws {
        try await EtcdTestServer.with { etcd in
            let client = etcd.client
            try await client.put(key: "/p/a", value: Array("1".utf8))
            try await client.put(key: "/q", value: Array("outside the prefix".utf8))
            let (kvs, revision) = try await client.range(prefix: "/p/")
            #expect(kvs.map(\.key) == ["/p/a"] && kvs.first?.valueString == "1")
            #expect(kvs.first?.modRevision == revision - 1)

            var events = client.watch(prefix: "/p/", fromRevision: revision + 1).makeAsyncIterator()
            try await client.put(key: "/p/b", value: [0, 0xff])
            try await client.put(key: "/pq", value: [])  // shares "/p" but not "/p/"
            #expect(try await client.deleteRange(key: "/p/a") == 1)
            var seen: [EtcdEvent] = []
            while seen.count < 2, let batch = try await events.next() { seen += batch }
            #expect(seen == [.put(key: "/p/b", value: [0, 0xff], modRevision: revision + 1),
                             .delete(key: "/p/a", modRevision: revision + 3)])

            let lease = try await client.grantLease(ttlSeconds: 5)
            #expect(try await client.keepAlive(lease: lease) == 5)
            try await client.revoke(lease: lease)
            #expect(try await client.keepAlive(lease: lease) == 0)
            try await client.revoke(lease: lease)  // already gone: not an error
            await #expect(throws: EtcdError.self) { try await client.put(key: "/p/c", value: [], lease: lease) }
        }
    }
}
