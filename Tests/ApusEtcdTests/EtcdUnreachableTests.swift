import ApusEtcd
import ApusRPC
import Testing

/// An etcd that is not there at all (a port nothing listens on).
@Suite struct EtcdUnreachableTests {
    @Test func aRequestFailsNamingTheAddressAndWhatToDo() async throws {
        let port = try freePort()
        let client = EtcdClient(host: "127.0.0.1", port: port)
        let start = ContinuousClock.now
        await #expect {
            _ = try await client.range(prefix: "/apus/echo/")
        } throws: { error in
            guard let error = error as? EtcdError else { return false }
            print(error)
            return error.code == .unreachable && error.description.contains("127.0.0.1:\(port)")
                && error.description.contains("range of '/apus/echo/'") && error.description.contains("is etcd running")
        }
        #expect(ContinuousClock.now - start < .seconds(30), "a refused connection fails the request, not a hang")
    }

    @Test func maintainKeepsRetryingQuietlyAndReturnsWhenCancelled() async throws {
        let port = try freePort()
        let logs = LogRecorder()
        let registration = EtcdRegistration(client: EtcdClient(host: "127.0.0.1", port: port), prefix: "/apus", service: "echo",
                                            ttlSeconds: 2, logger: logs.logger)
        let sets = SetRecorder(EtcdEndpointSource(client: EtcdClient(host: "127.0.0.1", port: port), prefix: "/apus",
                                                  service: "echo", logger: logs.logger))
        defer { sets.cancel() }
        let maintain = Task { await registration.maintain(listeningOn: PeerAddress("127.0.0.1:9401")) }
        // Until both have warned and retried (200 + 400 + 800 ms backoff): bounded, not timed.
        for _ in 0..<200 {
            let warned = logs.messages(.warning).count >= 2
            if warned && logs.messages(.debug).contains(where: { $0.contains("still failing") }) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        maintain.cancel()
        let cancelled = ContinuousClock.now
        await maintain.value
        #expect(ContinuousClock.now - cancelled < .seconds(10), "maintain returns when cancelled")

        let warnings = logs.messages(.warning)
        #expect(warnings.filter { $0.contains("cannot keep /apus/echo/127.0.0.1:9401 registered") }.count == 1, "\(warnings)")
        #expect(warnings.filter { $0.contains("cannot follow /apus/echo/") }.count == 1, "\(warnings)")
        #expect(warnings.allSatisfy { $0.contains("127.0.0.1:\(port)") })
        #expect(logs.messages(.debug).contains { $0.contains("still failing") }, "it retried")
        #expect(sets.count == 0, "no set while etcd was never reached")
        await registration.deregister()  // never registered: nothing to do, nothing logged
        #expect(logs.messages(.warning).count == warnings.count)
    }
}
