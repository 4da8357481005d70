import ApusRPC
import ApusThrift
import Synchronization
import Testing

/// What Apache Thrift does with absent arguments and results, end to end
/// through the generated code and an in-process server: an argument the
/// client did not send reaches the handler as its default (Apache's C++
/// server does the same for arguments not marked `required`), and a reply
/// with neither a result nor a declared exception is MISSING_RESULT.
@Suite struct ArgumentSemanticsTests {
    final class RecordingInventory: Inventory.ServiceProtocol {
        let skus = Mutex<[String]>([])

        func lookup(sku: String, context: ServerContext) async throws -> Stock {
            skus.withLock { $0.append(sku) }
            return Stock(sku: sku)
        }

        func restock(sku: String, count: Int32, context: ServerContext) async throws {}
    }

    static func withServer(_ service: ServiceDefinition, _ body: (InProcessServerTransport) async throws -> Void) async throws {
        let transport = InProcessServerTransport()
        var router = Router()
        router.register(service)
        let server = RPCServer(transport: transport, router: router, gracePeriod: .seconds(5), logger: ServerContext.silentLogger)
        let running = Task { try await server.run() }
        _ = try await server.listeningAddress
        try await body(transport)
        server.beginGracefulShutdown()
        try await running.value
    }

    @Test func aMissingArgumentReachesTheHandlerAsItsDefault() async throws {
        let handler = RecordingInventory()
        try await Self.withServer(Inventory.service(handler)) { transport in
            // A Python client passing None for `sku` sends an arguments struct without field 1.
            let result = try await transport.makeClient().call(
                Inventory.LookupResult(), method: Inventory.Method.lookup, options: .defaults, result: Inventory.LookupResult.self)
            #expect(result.success == Stock(sku: ""))
        }
        #expect(handler.skus.withLock { $0 } == [""])
    }

    @Test func aReplyWithoutSuccessOrExceptionIsMissingResult() async throws {
        // A server (Apache Python's handler returning None) that answers with an empty result struct.
        let empty = ServiceDefinition(name: Inventory.serviceName, methods: [
            RPCMethod(Inventory.Method.lookup) { (_: borrowing IncomingMessage) throws(RPCError) in
                { _ in ServerResponse(body: Inventory.LookupResult()) }
            }
        ])
        try await Self.withServer(empty) { transport in
            do {
                _ = try await Inventory.Client(transport.makeClient()).lookup(sku: "A-1")
                Issue.record("expected MISSING_RESULT")
            } catch let error as RPCError {
                #expect(error.code == .missingResult)
            }
        }
    }
}
