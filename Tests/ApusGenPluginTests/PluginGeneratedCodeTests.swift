import ApusRPC
import ApusThrift
import Testing

/// inventory.thrift and money.thrift sit among this target's sources; ApusGenPlugin
/// turned them into Swift during the build. These tests use what it generated.
@Suite struct PluginGeneratedCodeTests {
    @Test(arguments: ThriftProtocolID.allCases) func generatedTypesRoundTrip(_ protocolID: ThriftProtocolID) throws {
        let stock = Stock(sku: "A-1", kind: .tool, price: Price(cents: 1999), tags: ["steel"])
        let bytes = try Thrift.encode(stock, protocol: protocolID)
        #expect(try Thrift.decode(Stock.self, from: bytes, protocol: protocolID) == stock)
    }

    @Test func defaultsFromTheIDL() {
        let stock = Stock(sku: "B-2")
        #expect(stock.kind == .part && stock.price == nil && stock.tags.isEmpty)
        #expect(Price(cents: 5).currency == "EUR")
    }

    @Test func serviceShape() {
        #expect(Inventory.serviceName == "Inventory")
        #expect(Inventory.Method.all.map(\.method) == ["lookup", "restock"])
        #expect(Inventory.Method.restock.kind == .oneway)
        let error: any Error = OutOfStock(sku: "C-3")
        #expect((error as? OutOfStock)?.sku == "C-3")
    }
}
