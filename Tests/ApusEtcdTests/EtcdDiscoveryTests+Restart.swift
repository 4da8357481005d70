import ApusEtcd
import ApusRPC
import Testing

/// An etcd that goes away: the source keeps its last set and resumes, the
/// registration keeps retrying and comes back, neither throws nor floods the log.
/// In the same (serialized) suite as the others, so no other etcd test runs beside it.
extension EtcdDiscoveryTests {
    @Test func aRestartedEtcdIsFollowedAgainWithoutAnEmptySetInBetween() async throws {
        try await EtcdTestServer.with { etcd in
            let logs = LogRecorder()
            let sourceLogs = LogRecorder()
            let first = EtcdRegistration(client: etcd.client, prefix: "/apus", service: "echo", ttlSeconds: 2, logger: logs.logger)
            let sets = SetRecorder(EtcdEndpointSource(client: etcd.client, prefix: "/apus", service: "echo", logger: sourceLogs.logger))
            defer { sets.cancel() }
            let firstTask = Task { await first.maintain(listeningOn: PeerAddress("127.0.0.1:9301")) }
            defer { firstTask.cancel() }
            #expect(await sets.waitFor { $0.ids == ["127.0.0.1:9301"] } != nil)
            let yielded = sets.count

            etcd.stop()
            try await Task.sleep(for: .seconds(2))  // keepalives (every 2/3 s) and the watch fail meanwhile
            #expect(sets.count == yielded, "nothing new while etcd is down: \(sets.all.suffix(2))")
            try await etcd.start()

            let second = EtcdRegistration(client: etcd.client, prefix: "/apus", service: "echo", ttlSeconds: 2, logger: logs.logger)
            let secondTask = Task { await second.maintain(listeningOn: PeerAddress("127.0.0.1:9302")) }
            defer { secondTask.cancel() }
            let both = await sets.waitFor(timeout: .seconds(10)) { $0.ids == ["127.0.0.1:9301", "127.0.0.1:9302"] }
            #expect(both != nil, "after the restart: \(sets.all)")
            #expect(!sets.all.drop(while: { $0.isEmpty }).contains { $0.isEmpty }, "never an empty set once it had one: \(sets.all)")

            // The first server's keepalives failed during the outage; it is registered still, a TTL later.
            try await Task.sleep(for: .seconds(3))
            let keys = try await etcd.client.range(prefix: "/apus/echo/").kvs.map(\.key)
            #expect(keys == ["/apus/echo/127.0.0.1:9301", "/apus/echo/127.0.0.1:9302"])
            #expect(sets.latest?.ids == ["127.0.0.1:9301", "127.0.0.1:9302"])

            // One warning per outage, however many retries.
            #expect(logs.messages(.warning).count == 1, "\(logs.messages(.warning))")
            #expect(logs.messages(.warning).first?.contains(etcd.endpoint) == true)
            #expect(sourceLogs.messages(.warning).count == 1, "\(sourceLogs.messages(.warning))")
            #expect(sourceLogs.messages(.info).contains { $0.contains("reachable again") })

            // Deregistering with etcd gone: a warning that the entry lapses, and no error.
            firstTask.cancel()
            await firstTask.value
            etcd.stop()
            await first.deregister()
            #expect(logs.messages(.warning).contains { $0.contains("lapses within its TTL") })
        }
    }
}
