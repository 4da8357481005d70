import ApusRPC

/// The handler the RPC benchmarks serve: returns the payload it got. Async, so each call
/// runs in a task of its own.
public struct BenchEcho: Bench.ServiceProtocol {
    public init() {}
    public func echo(payload: [UInt8], context: ServerContext) async throws -> [UInt8] { payload }
}

/// The same handler, synchronous (`SyncServiceProtocol`): its calls run inline, with no task.
public struct BenchSyncEcho: Bench.SyncServiceProtocol {
    public init() {}
    public func echo(payload: [UInt8], context: ServerContext) throws -> [UInt8] { payload }
}
