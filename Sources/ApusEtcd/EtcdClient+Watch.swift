import AsyncHTTPClient
import NIOCore
import Synchronization

extension EtcdClient {
    /// Every change to keys starting with `prefix` from `revision` on, one element per batch
    /// etcd sends (a transaction's changes come together).
    ///
    /// Never finishes without an error: it throws an `EtcdError` when the connection drops
    /// (`.unreachable`), etcd ends or cancels the watch (`.watchEnded`), or `revision` is
    /// already compacted (`.compacted`); range again and watch from the new revision then.
    /// Ending the iteration (or cancelling its task) closes the connection.
    ///
    /// With `quietLimit`, a watch that hears nothing for that long finishes without an error:
    /// a connection whose peer vanished without closing it (a crashed host, a dropped route)
    /// is silent too, and TCP alone would notice only after many minutes. The caller then
    /// ranges and watches again, which works at once or fails naming why.
    public func watch(prefix: String, fromRevision revision: Int64,
                      quietLimit: Duration? = nil) -> AsyncThrowingStream<[EtcdEvent], any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: [EtcdEvent].self)
        let task = Task {
            do throws(EtcdError) {
                if let quietLimit {
                    try await self.runWatch(prefix: prefix, fromRevision: revision, quietLimit: quietLimit, continuation)
                } else {
                    try await self.runWatch(prefix: prefix, fromRevision: revision, heard: nil, continuation)
                }
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// The watch raced against a timer that ends it once nothing was heard for `quietLimit`.
    private func runWatch(prefix: String, fromRevision revision: Int64, quietLimit: Duration,
                          _ continuation: AsyncThrowingStream<[EtcdEvent], any Error>.Continuation) async throws(EtcdError) {
        let heard = LastHeard()
        let outcome: Result<Void, EtcdError> = await withTaskGroup(of: Result<Void, EtcdError>?.self) { group in
            group.addTask {
                do throws(EtcdError) {
                    try await self.runWatch(prefix: prefix, fromRevision: revision, heard: heard, continuation)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                while true {
                    let quietUntil = heard.instant.advanced(by: quietLimit)
                    guard (try? await Task.sleep(until: quietUntil, clock: .continuous)) != nil else { return nil }
                    if heard.instant.advanced(by: quietLimit) <= .now {
                        return .success(())  // quiet too long: finish, so the caller starts over
                    }
                }
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .success(())
        }
        if case .failure(let error) = outcome { throw error }
        continuation.finish()
    }

    private func runWatch(prefix: String, fromRevision revision: Int64, heard: LastHeard?,
                          _ continuation: AsyncThrowingStream<[EtcdEvent], any Error>.Continuation) async throws(EtcdError) {
        let operation = "watch of '\(prefix)' from revision \(revision)"
        let request = makeRequest("/v3/watch", [
            "create_request": [
                "key": EtcdJSON.base64(prefix),
                "range_end": EtcdJSON.base64(EtcdJSON.rangeEnd(ofPrefix: prefix)),
                "start_revision": String(revision),
            ] as [String: Any],
        ])
        do {
            let response = try await http.execute(request, deadline: .distantFuture, logger: logger)
            guard response.status.code == 200 else {
                throw EtcdError(.httpStatus, operation: operation, endpoint: endpoint, detail: "HTTP \(response.status.code)")
            }
            var splitter = JSONObjectSplitter()
            heard?.now()
            for try await chunk in response.body {
                heard?.now()
                splitter.append(chunk.readableBytesView)
                while let object = try splitter.next() {
                    let events = try self.events(in: object, operation)
                    if !events.isEmpty { continuation.yield(events) }
                }
            }
        } catch let error as JSONObjectSplitter.Failure {
            throw malformed(operation, "\(error)")
        } catch {
            throw failure(operation, error)
        }
        throw EtcdError(.watchEnded, operation: operation, endpoint: endpoint, detail: "etcd closed the stream")
    }

    /// The events of one `{"result": ...}` message; the creation notice and progress reports have none.
    private func events(in object: [UInt8], _ operation: String) throws(EtcdError) -> [EtcdEvent] {
        guard let message = EtcdJSON.object(object) else { throw malformed(operation, "a message is not a JSON object") }
        if let error = message["error"] {
            throw EtcdError(.watchEnded, operation: operation, endpoint: endpoint, detail: "etcd says \(EtcdJSON.errorMessage(error))")
        }
        guard let result = message["result"] as? [String: Any] else { throw malformed(operation, "a message has no 'result'") }
        if let compacted = EtcdJSON.int64(result["compact_revision"]), compacted != 0 {
            throw EtcdError(.compacted, operation: operation, endpoint: endpoint,
                            detail: "the revision is compacted (etcd keeps history from \(compacted))")
        }
        if EtcdJSON.bool(result["canceled"]) {
            let reason = result["cancel_reason"] as? String ?? "no reason given"
            throw EtcdError(.watchEnded, operation: operation, endpoint: endpoint, detail: "etcd cancelled the watch: \(reason)")
        }
        var events: [EtcdEvent] = []
        for item in result["events"] as? [Any] ?? [] {
            guard let event = item as? [String: Any], let kv = EtcdJSON.keyValue(event["kv"]) else {
                throw malformed(operation, "an event does not parse")
            }
            switch event["type"] as? String ?? "PUT" {
            case "PUT": events.append(.put(key: kv.key, value: kv.value, modRevision: kv.modRevision))
            case "DELETE": events.append(.delete(key: kv.key, modRevision: kv.modRevision))
            case let other: throw malformed(operation, "an event has the unknown type '\(other)'")
            }
        }
        return events
    }
}

/// When a watch last heard from etcd, shared by the watch and its quiet timer.
final class LastHeard: Sendable {
    private let state = Mutex(ContinuousClock.now)
    var instant: ContinuousClock.Instant { state.withLock { $0 } }
    func now() { state.withLock { $0 = .now } }
}
