import ApusEtcd
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A watch whose etcd answered, then went silent without closing: what a crashed host or a
/// dropped route looks like from here. `quietLimit` ends it, instead of TCP many minutes later.
@Suite struct SilentWatchTests {
    @Test func aSilentWatchFinishesAfterItsQuietLimit() async throws {
        let gateway = try SilentGateway()
        defer { gateway.stop() }
        let client = EtcdClient(host: "127.0.0.1", port: gateway.port)
        let start = ContinuousClock.now
        var batches = 0
        for try await _ in client.watch(prefix: "/apus/echo/", fromRevision: 1, quietLimit: .milliseconds(300)) {
            batches += 1
        }
        let took = ContinuousClock.now - start
        #expect(batches == 0)
        #expect(took >= .milliseconds(300), "not before the limit: \(took)")
        #expect(took < .seconds(60), "ended by the quiet limit, not by TCP: \(took)")
    }
}

/// Accepts one connection, answers its request with the start of a chunked 200 (as etcd's
/// gateway starts a watch), then neither sends nor closes until stopped.
final class SilentGateway: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let accepted = NSLock()
    private var connection: Int32 = -1

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 4) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        guard ok else { throw CocoaError(.fileWriteUnknown) }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = listener
        Thread { [self] in
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            accepted.withLock { self.connection = fd }
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = read(fd, &buffer, buffer.count)  // the watch request
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            _ = head.withCString { write(fd, $0, strlen($0)) }
        }.start()
    }

    func stop() {
        accepted.withLock { if connection >= 0 { close(connection) } }
        close(listener)
    }
}
