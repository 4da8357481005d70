import ApusExamples
import ApusRPC
import ApusThrift
import ApusTransportPosix
import Testing

/// The kernel-socket client in THeader against the kernel-socket server: metadata in, response
/// headers out, and the caller's timeout ending the server's work.
@Suite struct THeaderClientTests {
    func client(port: Int) -> PosixClientTransport {
        var configuration = PosixClientTransport.Configuration()
        configuration.theader = true
        return PosixClientTransport(host: "127.0.0.1", port: port, configuration: configuration)
    }

    @Test func metadataGoesInAndResponseHeadersComeBack() async throws {
        try await withServer(router: exampleRouter()) { (port, _) async throws in
            let transport = client(port: port)
            defer { Task { await transport.close() } }
            let reply = ResponseMetadata()
            let options = CallOptions(metadata: ["request-id": "r-1", "tenant": "blue"], responseMetadata: reply)
            #expect(try await Echo.Client(transport).echo(message: "hi", options: options) == "hi")
            #expect(reply.all == ["echo-request-id": "r-1", "echo-tenant": "blue"])
            let payload = [UInt8](repeating: 7, count: 1 << 20)
            #expect(try await Echo.Client(transport).echoBinary(payload: payload) == payload)
        }
    }

    @Test func theCallersTimeoutCancelsTheServersHandler() async throws {
        let handler = ScriptedEcho()
        try await withServer(router: exampleRouter(echo: handler)) { (port, _) async throws in
            let transport = client(port: port)
            defer { Task { await transport.close() } }
            await expectRPCError(.deadlineExceeded) {
                try await Echo.Client(transport).echo(message: "slow:60000", options: CallOptions(timeout: .milliseconds(100)))
            }
            for _ in 0..<1000 where handler.cancelled.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(5)) }
            #expect(handler.cancelled.load(ordering: .relaxed) == 1, "the server gave up at the caller's deadline (client_timeout)")
        }
    }
}
