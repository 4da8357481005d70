import ApusRPC
import Synchronization

/// The Echo service `apus serve` runs: every method returns what it got;
/// `fire` counts, `firedCount` tells the count (server-wide). `echo` also echoes
/// the call's metadata: request header K comes back as response header echo-K, and
/// TTHeader's int key N as echo-int-N (THeader and TTHeader calls; other framings carry no headers).
///
/// No method suspends, so every call runs inline on the transport's thread
/// (`Echo.SyncServiceProtocol`). A slow Echo for load-balancing tests is this
/// behind a `DelayMiddleware` (`apus serve --echo-delay`).
public final class EchoHandler: Echo.SyncServiceProtocol {
    private let fired = Atomic<Int64>(0)

    public init() {}

    public func echo(message: String, context: ServerContext) throws -> String {
        if !context.metadata.isEmpty || !context.intMetadata.isEmpty {
            for (key, value) in context.metadata { context.responseMetadata["echo-" + key] = value }
            for (key, value) in context.intMetadata { context.responseMetadata["echo-int-\(key)"] = value }
        }
        return message
    }
    public func echoBinary(payload: [UInt8], context: ServerContext) throws -> [UInt8] { payload }
    public func echoItem(item: Item, context: ServerContext) throws -> Item { item }
    public func ping(context: ServerContext) throws {}
    public func fire(id: Int64, context: ServerContext) throws { fired.add(1, ordering: .relaxed) }
    public func firedCount(context: ServerContext) throws -> Int64 { fired.load(ordering: .relaxed) }
}
