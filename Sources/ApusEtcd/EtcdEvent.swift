/// One change a watch reports.
public enum EtcdEvent: Hashable, Sendable {
    case put(key: String, value: [UInt8], modRevision: Int64)
    case delete(key: String, modRevision: Int64)

    public var key: String {
        switch self {
        case .put(let key, _, _), .delete(let key, _): key
        }
    }

    public var modRevision: Int64 {
        switch self {
        case .put(_, _, let revision), .delete(_, let revision): revision
        }
    }
}
