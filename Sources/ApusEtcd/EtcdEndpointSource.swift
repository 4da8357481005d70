import ApusRPC
import Logging

/// The servers registered under `PREFIX/SERVICE/` (`--discover etcd://...`):
/// a range for the current set, then a watch for each change.
///
/// An entry that is not a JSON object with a host and a port in 1...65535
/// is left out, with one warning per version of it. When etcd cannot be
/// reached, or the watch breaks, the last set stands (a client keeps
/// calling the servers it knew; an empty set would stop it dead), one
/// warning marks the outage, and range and watch start over with backoff. A watch
/// that hears nothing for `quietLimit` starts over too, quietly.
public struct EtcdEndpointSource: EndpointSource {
    public let client: EtcdClient
    /// Without a trailing slash.
    public let prefix: String
    public let service: String
    /// A watch silent for this long is started over (with a range first), so a connection
    /// that died without closing is found out within it rather than when TCP gives up.
    public let quietLimit: Duration
    private let logger: Logger

    public init(client: EtcdClient, prefix: String, service: String, quietLimit: Duration = .seconds(60),
                logger: Logger = Logger(label: "apus.etcd")) {
        var prefix = prefix
        while prefix.hasSuffix("/") { prefix.removeLast() }
        self.client = client
        self.prefix = prefix
        self.service = service
        self.quietLimit = quietLimit
        self.logger = logger
    }

    /// Discovers through the etcd and under the prefix `url` names.
    public init(url: EtcdURL, service: String, quietLimit: Duration = .seconds(60), logger: Logger = Logger(label: "apus.etcd")) {
        self.init(client: EtcdClient(url: url, logger: logger), prefix: url.prefix, service: service, quietLimit: quietLimit,
                  logger: logger)
    }

    /// The keys of this service's instances start with this.
    public var directory: String { "\(prefix)/\(service)/" }

    public var description: String { "\(client), \(directory)" }

    public func endpointSets() -> AsyncStream<[Endpoint]> {
        let (stream, continuation) = AsyncStream.makeStream(of: [Endpoint].self)
        let task = Task { [self] in
            await produce(into: continuation)
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func produce(into continuation: AsyncStream<[Endpoint]>.Continuation) async {
        var entries = ServiceEntries(logger: logger)
        var last: [Endpoint]?
        var backoff = Backoff()
        var outage = OutageLog()
        var followingSince: ContinuousClock.Instant?  // when the last range succeeded
        func yieldIfChanged() {
            let set = entries.endpoints
            guard set != last else { return }
            last = set
            continuation.yield(set)
        }
        while !Task.isCancelled {
            do throws(EtcdError) {
                let (kvs, revision) = try await client.range(prefix: directory)
                entries.replace(with: kvs)
                if outage.recovered() { logger.info("\(client) reachable again; watching \(directory)") }
                yieldIfChanged()
                followingSince = .now
                do {
                    for try await events in client.watch(prefix: directory, fromRevision: revision + 1, quietLimit: quietLimit) {
                        entries.apply(events)
                        yieldIfChanged()
                    }
                } catch {
                    throw error as? EtcdError ?? client.failure("watch of '\(directory)'", error)
                }
                // Cancelled, or quiet for quietLimit: range and watch again (a dead connection fails then).
                if Task.isCancelled { return }
                logger.debug("no news from \(client) on \(directory) for \(quietLimit.humanReadable); ranging and watching again")
            } catch {
                if error.code == .cancelled || Task.isCancelled { return }
                // A watch that ran a while earns a quick retry; one that keeps failing at once backs off.
                if let since = followingSince, ContinuousClock.now - since > backoff.cap { backoff.reset() }
                followingSince = nil
                outage.failed(error, "cannot follow \(directory) in \(client); keeping the last set of \(last?.count ?? 0)",
                              logger: logger)
                guard (try? await Task.sleep(for: backoff.next())) != nil else { return }
            }
        }
    }
}
