import ApusExamples
import ApusRPC
import ApusThrift
import ApusTransportPosix
import Synchronization
import Testing

/// A client that pipelines calls with large replies and reads none of them must not
/// make the server produce (and hold) every reply: it stops reading calls while the
/// socket does not take its replies. The peer is the kernel's TCP, driven by a plain socket.
@Suite(.serialized) struct BackPressureTests {
    /// KV whose `get` counts how often it ran; synchronous, so its calls run inline as they are read.
    final class CountingKV: KV.SyncServiceProtocol {
        let inner = InMemoryKV()
        let gets = Atomic<Int>(0)
        func put(key: String, value: [UInt8], context: ServerContext) throws { try inner.put(key: key, value: value, context: context) }
        func get(key: String, context: ServerContext) throws -> [UInt8] {
            gets.add(1, ordering: .relaxed)
            return try inner.get(key: key, context: context)
        }
        func remove(key: String, context: ServerContext) throws -> Bool { try inner.remove(key: key, context: context) }
        func count(context: ServerContext) throws -> Int64 { try inner.count(context: context) }
    }

    @Test(arguments: ServerKind.allCases) func aClientThatReadsNoRepliesStopsTheServerFromProducingThem(_ kind: ServerKind) async throws {
        let kv = CountingKV()
        try await withServer(kind, router: exampleRouter(kv: kv)) { (port, _) async throws in
            let value = [UInt8](repeating: 0x5A, count: 1 << 20)
            let transport = client(port: port)
            defer { Task { await transport.close() } }
            try await KV.Client(transport).put(key: "big", value: value)

            let socket = try KernelSocket(port: port, receiveBuffer: 64 * 1024)
            let calls = (1...50).flatMap { frame(callBytes("get", KV.GetArgs(key: "big"), sequenceID: Int32($0))) }
            try socket.send(calls)  // 50 small calls, 50 MB of replies, none read yet
            try await Task.sleep(for: .milliseconds(500))
            let producedWhileUnread = kv.gets.load(ordering: .relaxed)
            #expect(producedWhileUnread <= 8, "the server produced \(producedWhileUnread) 1 MB replies nobody read")
            // Reading resumes the server: every reply arrives, in order, complete.
            for sequenceID in 1...50 {
                let reply = try parseReply(try socket.receiveFrame())
                #expect(reply.sequenceID == Int32(sequenceID))
                #expect(reply.body.count > value.count)
            }
            #expect(kv.gets.load(ordering: .relaxed) == 50)
            socket.reset()
        }
    }
}
