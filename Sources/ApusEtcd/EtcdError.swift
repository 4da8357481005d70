/// An etcd request that failed, or an etcd URL that does not parse: names
/// the request, the etcd it went to and what came back, and says what to do.
public struct EtcdError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure, so callers can react (a lost lease is registered again; a compacted
    /// watch is ranged again) without matching on text.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case invalidURL, unreachable, httpStatus, leaseNotFound, compacted, watchEnded, malformedResponse, cancelled
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// `etcd://HOST:PORT/PREFIX` did not parse.
        public static let invalidURL = Code(.invalidURL)
        /// No connection, or no answer in time.
        public static let unreachable = Code(.unreachable)
        /// etcd answered with an HTTP status other than 200.
        public static let httpStatus = Code(.httpStatus)
        /// The lease expired, was revoked, or etcd lost it.
        public static let leaseNotFound = Code(.leaseNotFound)
        /// A watch asked for a revision etcd has compacted away.
        public static let compacted = Code(.compacted)
        /// A watch stream ended or was cancelled by etcd.
        public static let watchEnded = Code(.watchEnded)
        /// etcd answered something that is not the JSON expected.
        public static let malformedResponse = Code(.malformedResponse)
        /// The task making the request was cancelled.
        public static let cancelled = Code(.cancelled)

        public var description: String { "\(value)" }
    }

    public let code: Code
    /// The request ("range of '/apus/echo/'", "lease keepalive of 7587…"), or the text that did not parse.
    public let operation: String
    /// `HOST:PORT` of the etcd asked; empty for a URL that did not parse.
    public let endpoint: String
    /// What came back: the HTTP status and etcd's message, or the connection error.
    public let detail: String

    public init(_ code: Code, operation: String, endpoint: String, detail: String) {
        self.code = code
        self.operation = operation
        self.endpoint = endpoint
        self.detail = detail
    }

    public var description: String {
        switch code {
        case .invalidURL:
            return "'\(operation)' is not an etcd URL: \(detail) (expected etcd://HOST:PORT/PREFIX, e.g. etcd://127.0.0.1:2379/apus)"
        case .unreachable:
            return "etcd \(operation) at \(endpoint) failed: \(detail); is etcd running at \(endpoint)? "
                + "start it or fix --register/--discover"
        case .cancelled:
            return "etcd \(operation) at \(endpoint) cancelled"
        default:
            return "etcd \(operation) at \(endpoint) failed: \(detail)"
        }
    }
}
