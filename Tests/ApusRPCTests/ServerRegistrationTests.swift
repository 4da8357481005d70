import ApusExamples
import ApusRPC
import ApusTransportPosix
import Synchronization
import Testing

/// `RPCServer(registration:)`: registered while it serves; on shutdown deregistered first, and
/// still serving for `deregistrationDelay`, so clients drop it before it stops accepting.
@Suite struct ServerRegistrationTests {
    final class RecordingRegistration: ServiceRegistration {
        let events = Mutex<[String]>([])

        func maintain(listeningOn address: PeerAddress) async {
            events.withLock { $0.append("registered \(address)") }
            while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
            events.withLock { $0.append("stopped renewing") }
        }

        func deregister() async { events.withLock { $0.append("deregistered") } }

        func waitFor(_ event: String) async -> Bool {
            for _ in 0..<2_000 {
                if events.withLock({ $0.contains { $0.hasPrefix(event) } }) { return true }
                try? await Task.sleep(for: .milliseconds(5))
            }
            return false
        }
    }

    @Test func deregistersFirstAndServesOnUntilTheDelayIsOver() async throws {
        let registration = RecordingRegistration()
        let transport = PosixServerTransport(host: "127.0.0.1", port: 0)
        let server = RPCServer(transport: transport, router: exampleRouter(), registration: registration,
                               deregistrationDelay: .milliseconds(500), logger: ServerContext.silentLogger)
        let running = Task { try await server.run() }
        let address = try await server.listeningAddress
        #expect(await registration.waitFor("registered"))
        let port = Int(address.description.split(separator: ":").last!)!

        server.beginGracefulShutdown()
        #expect(await registration.waitFor("deregistered"))
        // Deregistered, yet still accepting: a client that has not seen it leave is served.
        let echo = Echo.Client(client(port: port))
        let reply = try await echo.echo(message: "still here")
        #expect(reply == "still here")
        try await running.value
        #expect(registration.events.withLock { $0 } == ["registered \(address)", "stopped renewing", "deregistered"])
    }
}
