import AsyncHTTPClient
import Logging
import NIOCore

/// The few etcd v3 calls registration and discovery need, over etcd's JSON
/// gateway (HTTP/1.1 POSTs to `/v3/...`), so no gRPC stack comes along.
///
/// Each unary call has a timeout (3 s by default) and throws an `EtcdError`
/// naming the call and this etcd; a watch has none and ends with an error
/// when its connection does. By default requests go through one HTTP client
/// shared by the whole process and never shut down (like
/// `HTTPClient.shared`, but with no read timeout, which would cut idle
/// watches, and failing a refused connection at once instead of retrying
/// it until the deadline), so an `EtcdClient` needs no shutdown.
public final class EtcdClient: Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let requestTimeout: Duration
    let http: HTTPClient
    let logger: Logger
    let baseURL: String

    /// - Parameter httpClient: a client to use instead of the shared one; its owner shuts it down,
    ///   after every request and watch of this client has ended.
    public init(host: String, port: Int = EtcdURL.defaultPort, requestTimeout: Duration = .seconds(3),
                httpClient: HTTPClient? = nil, logger: Logger = Logger(label: "apus.etcd")) {
        self.host = host
        self.port = port
        self.requestTimeout = requestTimeout
        self.http = httpClient ?? Self.sharedHTTPClient
        self.logger = logger
        self.baseURL = "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    public convenience init(url: EtcdURL, requestTimeout: Duration = .seconds(3), logger: Logger = Logger(label: "apus.etcd")) {
        self.init(host: url.host, port: url.port, requestTimeout: requestTimeout, logger: logger)
    }

    /// `HOST:PORT`, as errors and logs name this etcd.
    public var endpoint: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public var description: String { "etcd at \(endpoint)" }

    /// Every key starting with `prefix`, and the store's revision when read (watch from the
    /// next one to miss nothing).
    public func range(prefix: String) async throws(EtcdError) -> (kvs: [EtcdKeyValue], revision: Int64) {
        let operation = "range of '\(prefix)'"
        let answer = try await call("/v3/kv/range", [
            "key": EtcdJSON.base64(prefix),
            "range_end": EtcdJSON.base64(EtcdJSON.rangeEnd(ofPrefix: prefix)),
        ], operation)
        var kvs: [EtcdKeyValue] = []
        for item in answer["kvs"] as? [Any] ?? [] {
            guard let kv = EtcdJSON.keyValue(item) else { throw malformed(operation, "a key-value pair does not parse") }
            kvs.append(kv)
        }
        return (kvs, try revision(of: answer, operation))
    }

    /// Sets `key` to `value`, attached to `lease` (0: none) so it goes when the lease does.
    public func put(key: String, value: [UInt8], lease: Int64 = 0) async throws(EtcdError) {
        var body: [String: Any] = ["key": EtcdJSON.base64(key), "value": EtcdJSON.base64(value)]
        if lease != 0 { body["lease"] = String(lease) }
        _ = try await call("/v3/kv/put", body, "put of '\(key)'")
    }

    /// Deletes `key`; returns how many keys went (0 or 1).
    @discardableResult
    public func deleteRange(key: String) async throws(EtcdError) -> Int64 {
        let operation = "delete of '\(key)'"
        let answer = try await call("/v3/kv/deleterange", ["key": EtcdJSON.base64(key)], operation)
        guard let deleted = EtcdJSON.int64(answer["deleted"]) else { throw malformed(operation, "'deleted' is not a number") }
        return deleted
    }

    /// A new lease of `ttlSeconds` (etcd may raise a TTL below its minimum); returns its id.
    public func grantLease(ttlSeconds: Int) async throws(EtcdError) -> Int64 {
        try await grantLeaseWithTTL(ttlSeconds: ttlSeconds).id
    }

    /// A new lease and the TTL etcd actually gave it.
    public func grantLeaseWithTTL(ttlSeconds: Int) async throws(EtcdError) -> (id: Int64, ttlSeconds: Int64) {
        let operation = "lease grant"
        let answer = try await call("/v3/lease/grant", ["TTL": String(ttlSeconds)], operation)
        if let error = answer["error"] as? String, !error.isEmpty { throw EtcdError(.httpStatus, operation: operation, endpoint: endpoint, detail: error) }
        guard let id = EtcdJSON.int64(answer["ID"]), id != 0, let ttl = EtcdJSON.int64(answer["TTL"]) else {
            throw malformed(operation, "no lease ID or TTL in the answer")
        }
        return (id, ttl)
    }

    /// Renews `lease`; returns its remaining TTL in seconds, 0 when the lease is gone (expired,
    /// revoked, or lost with etcd's data).
    public func keepAlive(lease: Int64) async throws(EtcdError) -> Int64 {
        let operation = "lease keepalive of \(lease)"
        // The gateway streams keepalives: one request in, one `{"result": {...}}` out.
        let answer = try await call("/v3/lease/keepalive", ["ID": String(lease)], operation)
        guard let result = answer["result"] as? [String: Any] else { throw malformed(operation, "no 'result' in the answer") }
        guard let ttl = EtcdJSON.int64(result["TTL"]) else { throw malformed(operation, "'TTL' is not a number") }
        return max(0, ttl)
    }

    /// Revokes `lease`, deleting every key attached to it; a lease already gone is not an error.
    public func revoke(lease: Int64) async throws(EtcdError) {
        do throws(EtcdError) {
            _ = try await call("/v3/lease/revoke", ["ID": String(lease)], "lease revoke of \(lease)")
        } catch {
            guard error.code == .leaseNotFound else { throw error }
        }
    }

    // MARK: - Requests

    /// POSTs `body` as JSON to `path` and returns the answer's first JSON object.
    func call(_ path: String, _ body: [String: Any], _ operation: String) async throws(EtcdError) -> [String: Any] {
        let request = makeRequest(path, body)
        let bytes: [UInt8]
        let status: (code: UInt, reason: String)
        do {
            let response = try await http.execute(request, timeout: TimeAmount(requestTimeout), logger: logger)
            status = (response.status.code, response.status.reasonPhrase)
            var buffer = try await response.body.collect(upTo: JSONObjectSplitter.maximumObjectSize)
            bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch {
            throw failure(operation, error)
        }
        var splitter = JSONObjectSplitter()
        splitter.append(bytes)
        let object = (try? splitter.next()).flatMap { $0 }.flatMap(EtcdJSON.object)
        guard status.code == 200 else { throw statusError(operation, status, object, bytes) }
        guard let object else { throw malformed(operation, "the answer is not a JSON object") }
        if let error = object["error"] {
            throw EtcdError(.httpStatus, operation: operation, endpoint: endpoint, detail: "etcd says \(EtcdJSON.errorMessage(error))")
        }
        return object
    }

    func makeRequest(_ path: String, _ body: [String: Any]) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: EtcdJSON.encode(body)))
        return request
    }

    /// What a thrown HTTP or connection error becomes: cancelled, or unreachable with its cause.
    func failure(_ operation: String, _ error: any Error) -> EtcdError {
        if let error = error as? EtcdError { return error }
        if Task.isCancelled || error is CancellationError || (error as? HTTPClientError) == .cancelled {
            return EtcdError(.cancelled, operation: operation, endpoint: endpoint, detail: "cancelled")
        }
        return EtcdError(.unreachable, operation: operation, endpoint: endpoint, detail: Self.describe(error, timeout: requestTimeout))
    }

    private func statusError(_ operation: String, _ status: (code: UInt, reason: String), _ object: [String: Any]?,
                             _ bytes: [UInt8]) -> EtcdError {
        let message = (object?["message"] as? String) ?? (object?["error"] as? String)
            ?? String(decoding: bytes.prefix(200), as: UTF8.self)
        let code: EtcdError.Code = message.contains("lease not found") ? .leaseNotFound
            : message.contains("compacted") ? .compacted : .httpStatus
        return EtcdError(code, operation: operation, endpoint: endpoint, detail: "HTTP \(status.code) \(status.reason): \(message)")
    }

    func malformed(_ operation: String, _ what: String) -> EtcdError {
        EtcdError(.malformedResponse, operation: operation, endpoint: endpoint, detail: "\(what) (is this the etcd v3 gateway?)")
    }

    private func revision(of answer: [String: Any], _ operation: String) throws(EtcdError) -> Int64 {
        guard let header = answer["header"] as? [String: Any], let revision = EtcdJSON.int64(header["revision"]) else {
            throw malformed(operation, "no header revision in the answer")
        }
        return revision
    }

    /// A connection error in a few words: NIO's own descriptions nest the useful part
    /// (`Connection refused (errno: 111)`) deep inside.
    static func describe(_ error: any Error, timeout: Duration) -> String {
        switch error as? HTTPClientError {
        case .deadlineExceeded?: return "no answer within \(timeout)"
        case .connectTimeout?: return "connect timed out"
        case .readTimeout?: return "read timed out"
        case .remoteConnectionClosed?: return "etcd closed the connection"
        default: break
        }
        let text = "\(error)"
        for known in ["Connection refused", "Connection reset by peer", "No route to host", "Network is unreachable",
                      "Broken pipe", "Connection timed out"] where text.contains(known) {
            return known.lowercased()
        }
        return text
    }

    /// The client every `EtcdClient` uses unless given one: never shut down, like `HTTPClient.shared`.
    static let sharedHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(3), read: nil),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64),
            decompression: .disabled
        )
        // A refused connection fails the request now; callers retry with their own backoff.
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
