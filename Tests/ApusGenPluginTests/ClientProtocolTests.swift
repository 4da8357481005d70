import ApusRPC
import ApusThrift
import Testing

/// Code that calls Inventory through `Inventory.ClientProtocol` can be handed a
/// stand-in instead of a client with a transport.
@Suite struct ClientProtocolTests {
    /// Answers from a dictionary and counts restocks, as a test double would.
    actor FakeInventory: Inventory.ClientProtocol {
        let stock: [String: Stock]
        var restocked: [String: Int32] = [:]

        init(_ stock: [Stock]) { self.stock = Dictionary(uniqueKeysWithValues: stock.map { ($0.sku, $0) }) }

        func lookup(sku: String, options: CallOptions) async throws -> Stock {
            guard let found = stock[sku] else { throw OutOfStock(sku: sku) }
            return found
        }

        func restock(sku: String, count: Int32, options: CallOptions) async throws { restocked[sku, default: 0] += count }
    }

    /// Code under test: it knows only the protocol.
    static func refill(_ skus: [String], through inventory: some Inventory.ClientProtocol) async throws -> [String] {
        var missing: [String] = []
        for sku in skus {
            do {
                _ = try await inventory.lookup(sku: sku)
            } catch let error as OutOfStock {
                missing.append(error.sku)
                try await inventory.restock(sku: sku, count: 10)
            }
        }
        return missing
    }

    @Test func aStandInTakesTheClientsPlace() async throws {
        let fake = FakeInventory([Stock(sku: "A-1")])
        #expect(try await Self.refill(["A-1", "B-2"], through: fake) == ["B-2"])
        #expect(await fake.restocked == ["B-2": 10])
    }

    @Test func theGeneratedClientConforms() {
        func accepts(_: some Inventory.ClientProtocol) {}
        accepts(Inventory.Client(InProcessServerTransport().makeClient()))
    }
}
