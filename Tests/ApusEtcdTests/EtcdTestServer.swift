import ApusEtcd
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A real single-member etcd on loopback: a temporary data directory, free
/// client and peer ports, stopped (and its directory removed) when the test
/// ends, whether it passed or not. It can be stopped and started again on the
/// same directory and ports, as an etcd restart.
final class EtcdTestServer: Sendable {
    /// The `etcd` binary: on PATH, or Debian's (etcd-server, which scripts/setup.sh installs).
    static let binary: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = path.split(separator: ":").map { "\($0)/etcd" } + ["/usr/bin/etcd"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static var isAvailable: Bool { binary != nil }

    let clientPort: Int
    let peerPort: Int
    let directory: URL
    let client: EtcdClient
    private let process = Mutex<Process?>(nil)

    struct StartFailure: Error, CustomStringConvertible { var description: String }

    private init() throws {
        clientPort = try freePort()
        peerPort = try freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("apus-etcd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        client = EtcdClient(host: "127.0.0.1", port: clientPort, requestTimeout: .seconds(2))
    }

    /// Runs `body` against a fresh etcd, which is gone afterwards even when `body` throws.
    static func with<T>(_ body: (EtcdTestServer) async throws -> T) async throws -> T {
        let server = try EtcdTestServer()
        defer { server.remove() }
        try await server.start()
        return try await body(server)
    }

    var endpoint: String { "127.0.0.1:\(clientPort)" }

    /// Starts etcd and waits (at most 30 s: a loaded machine starts it slowly) until it answers a range.
    func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary ?? "/usr/bin/etcd")
        let client = "http://127.0.0.1:\(clientPort)", peer = "http://127.0.0.1:\(peerPort)"
        process.arguments = [
            "--name", "apus-test", "--data-dir", directory.appendingPathComponent("data").path,
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", "apus-test=\(peer)", "--initial-cluster-state", "new",
            "--logger", "zap", "--log-outputs", "stderr", "--log-level", "warn",
        ]
        let logPath = directory.appendingPathComponent("etcd.log").path
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process.withLock { $0 = process }

        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { break }
            if (try? await self.client.range(prefix: "/")) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        stop()
        let tail = (try? String(contentsOfFile: logPath, encoding: .utf8))?.suffix(2000) ?? ""
        throw StartFailure(description: "etcd did not answer on \(endpoint) within 30 s; its log ends:\n\(tail)")
    }

    /// Stops etcd (SIGTERM, SIGKILL after 5 s) and waits for it to exit; keeps its data.
    func stop() {
        guard let process = self.process.withLock({ $0.take() }), process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(5)
        while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    private func remove() {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A loopback TCP port nothing listens on (bound to port 0, then closed).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw EtcdTestServer.StartFailure(description: "socket: errno \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddr in
            bind(fd, sockaddr, length) == 0 && getsockname(fd, sockaddr, &length) == 0
        }
    }
    guard bound else { throw EtcdTestServer.StartFailure(description: "bind: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
