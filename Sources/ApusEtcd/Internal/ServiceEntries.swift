import ApusRPC
import Logging

/// The instances under one service's directory, by key, as a range and
/// then a watch's events leave them; malformed values are left out and
/// reported once per version.
struct ServiceEntries {
    let logger: Logger
    private var byKey: [String: Endpoint] = [:]
    /// The malformed versions already reported, so a range after an outage does not repeat them.
    private var reported: [String: Int64] = [:]

    init(logger: Logger) { self.logger = logger }

    /// Sorted by id, one per id, so equal sets compare equal.
    var endpoints: [Endpoint] {
        var seen = Set<String>()
        return byKey.sorted { $0.key < $1.key }.map(\.value).filter { seen.insert($0.id).inserted }.sorted { $0.id < $1.id }
    }

    mutating func replace(with kvs: [EtcdKeyValue]) {
        byKey = [:]
        for kv in kvs { put(kv.key, kv.value, kv.modRevision) }
        let present = Set(kvs.map(\.key))
        reported = reported.filter { present.contains($0.key) }
    }

    mutating func apply(_ events: [EtcdEvent]) {
        for event in events {
            switch event {
            case .put(let key, let value, let revision):
                put(key, value, revision)
            case .delete(let key, _):
                byKey[key] = nil
                reported[key] = nil
            }
        }
    }

    private mutating func put(_ key: String, _ value: [UInt8], _ revision: Int64) {
        switch ServiceRecord.decode(value) {
        case .success(let endpoint):
            byKey[key] = endpoint
        case .failure(let malformed):
            byKey[key] = nil
            if reported[key] != revision {
                reported[key] = revision
                logger.warning("ignoring the etcd entry \(key) (revision \(revision)): \(malformed)")
            }
        }
    }
}
