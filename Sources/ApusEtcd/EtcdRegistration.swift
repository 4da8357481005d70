import ApusRPC
import Logging
import Synchronization

/// Keeps one server listed under `PREFIX/SERVICE/INSTANCE` while it serves
/// (`apus serve --register etcd://...`).
///
/// The key hangs on a lease, so a server that dies without deregistering
/// drops out within the TTL; while it lives, keepalives every TTL/3 renew
/// it. If etcd says the lease is gone (it expired during a long partition,
/// or etcd came back without its data) the server registers again. An
/// unreachable etcd never stops the server: one warning per outage, then
/// retries with backoff (200 ms doubling to 5 s, or TTL/3 if shorter) until cancelled.
public final class EtcdRegistration: ServiceRegistration, CustomStringConvertible {
    public let client: EtcdClient
    /// Without a trailing slash: keys are `prefix/service/instance`.
    public let prefix: String
    public let service: String
    /// The last key component; nil for the advertised `host:port`.
    public let instance: String?
    /// The address clients should dial; nil for the host the server listens on.
    public let advertisedHost: String?
    public let weight: Int
    public let transport: String
    public let protocolName: String?
    public let tags: [String]
    public let ttlSeconds: Int
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var key: String?
        /// The lease the key hangs on, once granted: what `deregister` revokes.
        var lease: Int64?
        /// Set by `deregister`, so a `maintain` still winding down does not register again.
        var deregistered = false
    }

    public init(client: EtcdClient, prefix: String, service: String, instance: String? = nil, advertisedHost: String? = nil,
                weight: Int = 1, transport: String = "kernel", protocol protocolName: String? = nil, tags: [String] = [],
                ttlSeconds: Int = 10, logger: Logger = Logger(label: "apus.etcd")) {
        precondition(!service.isEmpty && !service.contains("/"), "an etcd service name is one non-empty key component")
        precondition(ttlSeconds >= 1, "a lease TTL is at least 1 s")
        var prefix = prefix
        while prefix.hasSuffix("/") { prefix.removeLast() }
        self.client = client
        self.prefix = prefix
        self.service = service
        self.instance = instance
        self.advertisedHost = advertisedHost
        self.weight = max(1, weight)
        self.transport = transport
        self.protocolName = protocolName
        self.tags = tags
        self.ttlSeconds = ttlSeconds
        self.logger = logger
    }

    /// Registers in the etcd and under the prefix `url` names.
    public convenience init(url: EtcdURL, service: String, instance: String? = nil, advertisedHost: String? = nil,
                            weight: Int = 1, transport: String = "kernel", protocol protocolName: String? = nil,
                            tags: [String] = [], ttlSeconds: Int = 10, logger: Logger = Logger(label: "apus.etcd")) {
        self.init(client: EtcdClient(url: url, logger: logger), prefix: url.prefix, service: service, instance: instance,
                  advertisedHost: advertisedHost, weight: weight, transport: transport, protocol: protocolName, tags: tags,
                  ttlSeconds: ttlSeconds, logger: logger)
    }

    public var description: String { "\(client), \(prefix)/\(service)/" }

    public func maintain(listeningOn address: PeerAddress) async {
        guard let endpoint = advertisedEndpoint(listeningOn: address) else { return }
        let key = "\(prefix)/\(service)/\(instance ?? endpoint.id)"
        let value = ServiceRecord.encode(endpoint)
        state.withLock { $0 = State(key: key) }  // a server may register again after a deregister

        var lease: Int64?
        var interval = Duration.seconds(ttlSeconds) / 3
        var wait = Duration.zero  // before the next keepalive: the interval, or none right after a failure
        // Never longer between retries than between keepalives: once etcd is back, the lease
        // should be renewed before it lapses, not re-granted after.
        var backoff = Backoff(cap: min(Backoff.defaultCap, interval))
        var outage = OutageLog()
        while !Task.isCancelled && !state.withLock({ $0.deregistered }) {
            if lease != nil, wait > .zero {
                guard await pause(wait) else { return }
            }
            do throws(EtcdError) {
                if let current = lease {
                    guard try await client.keepAlive(lease: current) > 0 else {
                        logger.info("the etcd lease of \(key) is gone (it expired during an outage, or etcd lost its data); registering again")
                        lease = nil
                        continue
                    }
                    if outage.recovered() {
                        // The lease outlived the outage; write the value again in case the key went another way.
                        try await client.put(key: key, value: value, lease: current)
                        logger.info("\(client) reachable again; \(key) still registered")
                    }
                } else {
                    let granted = try await client.grantLeaseWithTTL(ttlSeconds: ttlSeconds)
                    let adopted = state.withLock { state in
                        if !state.deregistered { state.lease = granted.id }
                        return !state.deregistered
                    }
                    guard adopted else {
                        try? await client.revoke(lease: granted.id)
                        return
                    }
                    lease = granted.id
                    interval = .seconds(max(1, granted.ttlSeconds)) / 3
                    try await client.put(key: key, value: value, lease: granted.id)
                    outage.recovered()
                    logger.info("registered \(service) at \(endpoint) in \(client) as \(key) (TTL \(granted.ttlSeconds) s)")
                }
                backoff.reset()
                wait = interval
            } catch {
                if error.code == .cancelled || Task.isCancelled { return }
                if error.code == .leaseNotFound { lease = nil }  // the put raced the lease's expiry: grant anew
                outage.failed(error, "cannot keep \(key) registered in \(client)", logger: logger)
                wait = .zero
                guard await pause(backoff.next()) else { return }
            }
        }
    }

    public func deregister() async {
        let (lease, key) = state.withLock { state in
            state.deregistered = true
            defer { state.lease = nil }
            return (state.lease, state.key)
        }
        guard let lease, let key else { return }  // never registered, or already deregistered
        // Its own task: deregistering is part of shutting down, and must not be cut short
        // by the cancellation that may have started it. The request timeout bounds it.
        await Task { [client, logger, ttlSeconds] in
            do throws(EtcdError) {
                try await client.revoke(lease: lease)
                logger.info("deregistered \(key) from \(client)")
            } catch {
                logger.warning("could not deregister \(key): \(error); the entry lapses within its TTL (\(ttlSeconds) s)")
            }
        }.value
    }

    /// The endpoint to publish for a server listening on `address` (`host:port`, perhaps
    /// followed by a note such as `(xdp q0)`).
    func advertisedEndpoint(listeningOn address: PeerAddress) -> Endpoint? {
        guard let text = address.description.split(separator: " ").first,
              let listening = try? Endpoint(parsing: text) else {
            logger.error("cannot register in \(client): the listening address '\(address)' is not host:port")
            return nil
        }
        var host = advertisedHost ?? listening.host
        if advertisedHost == nil && ["0.0.0.0", "::"].contains(host) {
            logger.warning("""
                listening on every address (\(address)): registering 127.0.0.1, which only clients on this machine \
                can reach; set --advertise to the address clients should dial
                """)
            host = "127.0.0.1"
        }
        return Endpoint(host: host, port: listening.port, weight: weight, transport: transport, protocol: protocolName, tags: tags)
    }

    /// Sleeps; false when cancelled.
    private func pause(_ duration: Duration) async -> Bool {
        (try? await Task.sleep(for: duration)) != nil
    }
}
