import ApusRPC
import Synchronization

/// The Echo service `apus serve` runs: every method returns what it got;
/// `fire` counts, `firedCount` tells the count (server-wide). `echo` also echoes
/// the call's metadata: request header K comes back as response header echo-K, and
/// TTHeader's int key N as echo-int-N (THeader and TTHeader calls; other framings carry no headers).
///
/// `delay` makes `echo` sleep first: a slow server for tests of load balancing
/// (`apus serve --echo-delay`).
public final class EchoHandler: Echo.ServiceProtocol {
    private let fired = Atomic<Int64>(0)
    private let delay: Duration

    public init(delay: Duration = .zero) { self.delay = delay }

    public func echo(message: String, context: ServerContext) async throws -> String {
        if delay > .zero { try await Task.sleep(for: delay) }
        if !context.metadata.isEmpty || !context.intMetadata.isEmpty {
            for (key, value) in context.metadata { context.responseMetadata["echo-" + key] = value }
            for (key, value) in context.intMetadata { context.responseMetadata["echo-int-\(key)"] = value }
        }
        return message
    }
    public func echoBinary(payload: [UInt8], context: ServerContext) async throws -> [UInt8] { payload }
    public func echoItem(item: Item, context: ServerContext) async throws -> Item { item }
    public func ping(context: ServerContext) async throws {}
    public func fire(id: Int64, context: ServerContext) async throws { fired.add(1, ordering: .relaxed) }
    public func firedCount(context: ServerContext) async throws -> Int64 { fired.load(ordering: .relaxed) }
}
