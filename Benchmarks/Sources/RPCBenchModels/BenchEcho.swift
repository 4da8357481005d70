import ApusRPC

/// The handler the RPC benchmarks serve: returns the payload it got.
public struct BenchEcho: Bench.ServiceProtocol {
    public init() {}
    public func echo(payload: [UInt8], context: ServerContext) async throws -> [UInt8] { payload }
}
