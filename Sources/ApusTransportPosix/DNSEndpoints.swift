import ApusRPC
import Logging
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// The servers behind a DNS name: its A and AAAA records, each at `port`,
/// resolved again every `interval` (a headless Kubernetes service, a round
/// robin record). A lookup that fails keeps the last set and is logged once
/// per outage; an answer with no addresses is a set like any other (empty).
public struct DNSEndpoints: EndpointSource {
    public let name: String
    public let port: Int
    public let interval: Duration
    private let logger: Logger

    public init(name: String, port: Int, interval: Duration = .seconds(30), logger: Logger = Logger(label: "apus.dns")) {
        self.name = name
        self.port = port
        self.interval = interval
        self.logger = logger
    }

    public var description: String { "DNS name \(name) (port \(port))" }

    public func endpointSets() -> AsyncStream<[Endpoint]> {
        let (stream, continuation) = AsyncStream.makeStream(of: [Endpoint].self, bufferingPolicy: .bufferingNewest(1))
        let task = Task { [self] in
            var last: [Endpoint]?
            var failing = false
            while !Task.isCancelled {
                switch await Self.resolve(name) {
                case .success(let hosts):
                    if failing { logger.info("resolving \(name) works again") }
                    failing = false
                    let set = hosts.map { Endpoint(host: $0, port: port) }
                    if set != last {
                        continuation.yield(set)
                        last = set
                    }
                case .failure(let reason):
                    if !failing {
                        logger.warning("cannot resolve \(name): \(reason); keeping the last \(last?.count ?? 0) endpoint(s), retrying every \(interval)")
                    }
                    failing = true
                }
                try? await Task.sleep(for: interval)
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// The name's addresses, sorted and without duplicates, looked up off the caller's thread.
    static func resolve(_ name: String) async -> Result<[String], DNSFailure> {
        do {
            return try await NIOThreadPool.singleton.runIfActive { lookup(name) }
        } catch {
            return .failure(DNSFailure(description: "the resolver's thread pool is gone (\(error))"))
        }
    }

    struct DNSFailure: Error, CustomStringConvertible { let description: String }

    private static func lookup(_ name: String) -> Result<[String], DNSFailure> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &list)
        guard status == 0 else { return .failure(DNSFailure(description: String(cString: gai_strerror(status)))) }
        defer { freeaddrinfo(list) }
        var hosts = Set<String>()
        var entry = list
        while let info = entry?.pointee {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if let address = info.ai_addr,
               getnameinfo(address, info.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 {
                hosts.insert(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            entry = info.ai_next
        }
        return .success(hosts.sorted())
    }
}
