import ApusExamples
import ApusRPC
import ApusThrift
import ApusTransportPosix
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The epoll client against Apus's server over kernel TCP on 127.0.0.1, and
/// against a raw socket that answers garbage.
@Suite struct EpollClientTests {
    final class Flag: Sendable { let value = Atomic<Bool>(false) }

    func epollClient(port: Int, _ configuration: EpollClientTransport.Configuration = .init()) throws -> EpollClientTransport {
        try EpollClientTransport(host: "127.0.0.1", port: port, configuration: configuration)
    }

    @Test(arguments: LoopbackTests.combinations)
    func everyKindOfCallWorksInEveryProtocolAndFraming(protocolID: ThriftProtocolID, framing: ThriftFraming) async throws {
        try await withServer(router: exampleRouter()) { (port, _) async throws in
            let transport = try epollClient(port: port, .init(framing: framing, protocol: protocolID))
            let echo = Echo.Client(transport)
            let kv = KV.Client(transport)
            #expect(try await echo.echo(message: "héllo ✓") == "héllo ✓")
            let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }  // replies span many reads
            #expect(try await echo.echoBinary(payload: payload) == payload)
            let item = Item(id: .min, title: "t", extra: ["a": "1"])
            #expect(try await echo.echoItem(item: item) == item)
            let before = try await echo.firedCount()
            for id in 0..<5 { try await echo.fire(id: Int64(id)) }
            #expect(try await echo.firedCount() == before + 5)  // oneway calls went out, in order
            await #expect(throws: NotFound(key: "nope")) { try await kv.get(key: "nope") }
            await transport.close()
            await expectRPCError(.unavailable) { try await echo.ping() }
        }
    }

    @Test func pipelinedCallsOverAFewConnectionsGetTheirOwnRepliesInAnyOrder() async throws {
        let handler = ScriptedEcho()
        try await withServer(router: exampleRouter(echo: handler)) { (port, _) async throws in
            let transport = try epollClient(port: port, .init(connections: 3, multiplexed: true))
            defer { Task { await transport.close() } }
            let echo = Echo.Client(transport)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<300 {
                    group.addTask { let reply = try await echo.echo(message: "m\(i)"); #expect(reply == "m\(i)") }
                }
                try await group.waitForAll()
            }
            // One connection: the held call's reply comes after the later one's.
            let single = try epollClient(port: port)
            defer { Task { await single.close() } }
            let one = Echo.Client(single)
            async let held = one.echo(message: "gated")
            while handler.started.load(ordering: .relaxed) < 301 { try await Task.sleep(for: .milliseconds(5)) }
            #expect(try await one.echo(message: "fast") == "fast")
            handler.gateOpen.store(true, ordering: .releasing)
            #expect(try await held == "gated")
        }
    }

    @Test func aTimeoutOrACancelFailsThatCallOnly() async throws {
        try await withServer(router: exampleRouter(echo: ScriptedEcho())) { (port, _) async throws in
            let transport = try epollClient(port: port)
            defer { Task { await transport.close() } }
            let echo = Echo.Client(transport)
            await expectRPCError(.deadlineExceeded) {
                try await echo.echo(message: "slow:2000", options: CallOptions(timeout: .milliseconds(100)))
            }
            let call = Task { try await echo.echo(message: "slow:2000") }
            try await Task.sleep(for: .milliseconds(50))
            call.cancel()
            await expectRPCError(.cancelled) { try await call.value }
            #expect(try await echo.echo(message: "after") == "after")
        }
    }

    /// Closing the client while calls are on their way (some on the loop, some still coming
    /// from other threads) answers every one: a reply, or `.unavailable`; none waits forever.
    @Test func closingWhileCallsAreOnTheirWayAnswersEveryCall() async throws {
        try await withServer(router: exampleRouter()) { (port, _) async throws in
            for round in 0..<5 {
                let transport = try epollClient(port: port, .init(connections: 2))
                let echo = Echo.Client(transport)
                let outcomes = await withTaskGroup(of: String.self) { group in
                    for i in 0..<200 {
                        group.addTask {
                            do { return try await echo.echo(message: "m\(i)") == "m\(i)" ? "reply" : "wrong reply" } catch let error as RPCError {
                                return error.code == .unavailable ? "unavailable" : "\(error.code)"
                            } catch { return "\(error)" }
                        }
                    }
                    group.addTask {
                        try? await Task.sleep(for: .microseconds(200 * round))
                        await transport.close()
                        return "closed"
                    }
                    return await group.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
                }
                #expect(outcomes["closed"] == 1)
                #expect((outcomes["reply"] ?? 0) + (outcomes["unavailable"] ?? 0) == 200, "round \(round): \(outcomes)")
            }
        }
    }

    @Test func aRefusedConnectFailsAsNotSentAndALostOneFailsItsCallsThenReconnects() async throws {
        let port = try await withServer(router: exampleRouter()) { (port, _) async throws in port }
        let transport = try epollClient(port: port)
        defer { Task { await transport.close() } }
        let echo = Echo.Client(transport)
        let refused = await expectRPCError(.unavailable) { try await echo.ping() }
        #expect(refused?.requestWasNotSent == true)
        #expect(refused?.message.contains("refused") == true, "\(String(describing: refused))")

        let scripted = ScriptedEcho()
        try await withServer(port: port, router: exampleRouter(echo: scripted), gracePeriod: .milliseconds(50)) { (_, server) async throws in
            #expect(try await echo.echo(message: "first") == "first")
            let pending = Task { try await echo.echo(message: "slow:5000") }
            for _ in 0..<2_000 where scripted.started.load(ordering: .relaxed) < 2 { try await Task.sleep(for: .milliseconds(5)) }
            server.beginGracefulShutdown()  // the connection closes under the slow call
            let lost = await expectRPCError(.unavailable) { try await pending.value }
            #expect(lost?.message.contains("lost") == true, "\(String(describing: lost))")
        }
        try await withServerOnPort(port) { () async throws in
            #expect(try await echo.echo(message: "again") == "again")
        }
    }

    @Test func aMalformedReplyResetsTheConnectionAndFailsTheCall() async throws {
        // A raw kernel socket that answers any call with a frame no Thrift reply parses from.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var size = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                guard bind(listener, $0, size) == 0, listen(listener, 4) == 0, getsockname(listener, $0, &size) == 0 else {
                    throw KernelSocket.Failure(description: "bind/listen on 127.0.0.1: errno \(errno)")
                }
            }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let peerClosed = Flag()
        let thread = Thread {
            let fd = accept(listener, nil, nil)
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = read(fd, &buffer, buffer.count)
            let garbage: [UInt8] = [0, 0, 0, 8, 0xDE, 0xAD, 0xBE, 0xEF, 0xDE, 0xAD, 0xBE, 0xEF]
            _ = write(fd, garbage, garbage.count)
            // The client resets the connection: the next read ends (0 or ECONNRESET).
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let after = read(fd, &buffer, buffer.count)
            peerClosed.value.store(after <= 0 && (after == 0 || errno == ECONNRESET), ordering: .relaxed)
            close(fd)
        }
        thread.start()
        defer { close(listener) }
        let transport = try epollClient(port: port)
        defer { Task { await transport.close() } }
        let error = await expectRPCError(.unavailable) { try await Echo.Client(transport).echo(message: "x") }
        #expect(error?.message.contains("malformed reply") == true, "\(String(describing: error))")
        for _ in 0..<200 where !peerClosed.value.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(10)) }
        let closed = peerClosed.value.load(ordering: .relaxed)
        #expect(closed, "the client did not close the connection after the malformed reply")
    }
}
