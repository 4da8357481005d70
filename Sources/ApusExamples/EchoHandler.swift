import ApusRPC
import Synchronization

/// The Echo service `apus serve` runs: every method returns what it got;
/// `fire` counts, `firedCount` tells the count (server-wide).
public final class EchoHandler: Echo.ServiceProtocol {
    private let fired = Atomic<Int64>(0)

    public init() {}

    public func echo(message: String, context: ServerContext) async throws -> String { message }
    public func echoBinary(payload: [UInt8], context: ServerContext) async throws -> [UInt8] { payload }
    public func echoItem(item: Item, context: ServerContext) async throws -> Item { item }
    public func ping(context: ServerContext) async throws {}
    public func fire(id: Int64, context: ServerContext) async throws { fired.add(1, ordering: .relaxed) }
    public func firedCount(context: ServerContext) async throws -> Int64 { fired.load(ordering: .relaxed) }
}
