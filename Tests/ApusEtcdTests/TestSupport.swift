import ApusEtcd
import ApusRPC
import Logging
import Synchronization

/// Keeps what is logged through its loggers, so tests can check that an
/// outage is one warning and not one per retry. Also prints it, for a
/// failing test's output.
final class LogRecorder: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
    }

    private let entries = Mutex<[Entry]>([])

    var logger: Logger {
        var logger = Logger(label: "apus.etcd.test") { _ in Handler(recorder: self) }
        logger.logLevel = .debug
        return logger
    }

    func messages(_ level: Logger.Level) -> [String] {
        entries.withLock { $0.filter { $0.level == level }.map(\.message) }
    }

    fileprivate func record(_ level: Logger.Level, _ message: String) {
        entries.withLock { $0.append(Entry(level: level, message: message)) }
        if level >= .info { print("[\(level)] \(message)") }
    }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.record(event.level, "\(event.message)")
        }
    }
}

/// Every set an endpoint source yields, collected by a task of its own.
final class SetRecorder: Sendable {
    private let sets = Mutex<[[Endpoint]]>([])
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(_ source: some EndpointSource) {
        let task = Task { [self] in  // until cancel(): the stream never ends by itself
            for await set in source.endpointSets() {
                sets.withLock { $0.append(set) }
            }
        }
        self.task.withLock { $0 = task }
    }

    var all: [[Endpoint]] { sets.withLock { $0 } }
    var count: Int { sets.withLock { $0.count } }
    var latest: [Endpoint]? { sets.withLock { $0.last } }

    /// Waits (bounded) until the latest set satisfies `predicate`; returns it, or nil on timeout.
    func waitFor(timeout: Duration = .seconds(10), _ predicate: ([Endpoint]) -> Bool) async -> [Endpoint]? {
        let deadline = ContinuousClock.now + timeout
        repeat {
            if let latest, predicate(latest) { return latest }
            try? await Task.sleep(for: .milliseconds(20))
        } while ContinuousClock.now < deadline
        return nil
    }

    /// Ends the source's stream (its producer task is cancelled with it).
    func cancel() { task.withLock { $0?.cancel() } }
}

extension [Endpoint] {
    var ids: [String] { map(\.id) }
}
