import ApusRPC
import Synchronization

/// The KV service `apus serve` runs: a map in memory behind a lock, bounded
/// in entries and bytes so a client cannot exhaust the server's memory.
public final class InMemoryKV: KV.SyncServiceProtocol {
    public let maxEntries: Int
    public let maxBytes: Int
    private let state = Mutex(State())

    private struct State {
        var values: [String: [UInt8]] = [:]
        var bytes = 0
    }

    public init(maxEntries: Int = 1_000_000, maxBytes: Int = 1 << 30) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }

    public func put(key: String, value: [UInt8], context: ServerContext) throws {
        try state.withLock { state throws(RPCError) in
            let old = state.values[key]
            let bytes = state.bytes - (old.map { $0.count + key.utf8.count } ?? 0) + value.count + key.utf8.count
            guard bytes <= maxBytes, old != nil || state.values.count < maxEntries else {
                throw RPCError(.resourceExhausted, "KV store is full (\(maxEntries) entries, \(maxBytes) bytes at most)")
            }
            state.values[key] = value
            state.bytes = bytes
        }
    }

    public func get(key: String, context: ServerContext) throws -> [UInt8] {
        guard let value = state.withLock({ $0.values[key] }) else { throw NotFound(key: key) }
        return value
    }

    public func remove(key: String, context: ServerContext) throws -> Bool {
        state.withLock { state in
            guard let old = state.values.removeValue(forKey: key) else { return false }
            state.bytes -= old.count + key.utf8.count
            return true
        }
    }

    public func count(context: ServerContext) throws -> Int64 {
        Int64(state.withLock { $0.values.count })
    }
}
