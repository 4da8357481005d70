import ApusRPC
import CEpoll
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Serves Thrift over kernel TCP from a few run-to-completion epoll loops,
/// one thread each, that drive the `ServerConnection` stream core directly:
/// a call costs one `epoll_wait`, one `read` and one `write`, like Apache
/// Thrift's TNonblockingServer, and nothing between the socket and the
/// handler but the core and the dispatcher (no channel pipeline, no futures,
/// no per-read buffer allocation).
///
/// Handlers run on their connection's loop thread (a `LoopExecutor`), so a
/// call that does not suspend is answered in the pass that read it, and one
/// that does resumes there. Replies made in a pass are written with one
/// `write` per connection at its end.
///
/// Plain TCP only; `PosixServerTransport` (SwiftNIO) serves TLS.
public final class EpollServerTransport: ServerTransport {
    public struct Configuration: Sendable {
        /// Framing, limits, timeouts and back pressure of each connection (as on the other transports).
        public var connection: ServerConnectionPolicy
        public var backlog: Int32
        /// Loop threads (each accepts from the one listening socket); the machine's cores by default.
        public var threads: Int
        /// How long a loop with nothing to do keeps calling `epoll_wait` without a timeout before
        /// it sleeps in one, at most: as much of it as the traffic repays (`SpinPolicy`). A
        /// sleep costs the next call a wake-up, tens of microseconds on a VM. Zero: sleep at once.
        public var spinLimit: Duration

        public init(connection: ServerConnectionPolicy = ServerConnectionPolicy(), backlog: Int32 = 256,
                    threads: Int = System.coreCount, spinLimit: Duration = .microseconds(50)) {
            precondition(threads >= 1, "an epoll server needs at least one loop thread")
            precondition(spinLimit >= .zero, "an epoll server's spin limit cannot be negative")
            self.connection = connection
            self.backlog = backlog
            self.threads = threads
            self.spinLimit = spinLimit
        }
    }

    public let host: String
    public let port: Int
    public let configuration: Configuration
    private let state = Mutex(State())

    private struct State {
        var listener: Int32 = -1
        var loops: [EpollServerLoop] = []
    }

    public init(host: String, port: Int, configuration: Configuration = Configuration()) {
        self.host = host
        self.port = port
        self.configuration = configuration
    }

    public func listen(dispatcher: ServerDispatcher) async throws -> PeerAddress {
        let listener = try Self.openListener(host: host, port: port, backlog: configuration.backlog)
        var loops: [EpollServerLoop] = []
        do {
            for index in 0..<configuration.threads {
                let loop = try EpollServerLoop(index: index, listener: listener, dispatcher: dispatcher, policy: configuration.connection,
                                               spinLimit: configuration.spinLimit)
                loops.append(loop)
                try loop.start()
            }
        } catch {
            for loop in loops { loop.stop() }
            for loop in loops { await loop.finished.wait() }
            Glibc.close(listener)
            throw RPCError(.unavailable, "cannot start the epoll server on \(host):\(port): \(error)", cause: error)
        }
        state.withLock { $0 = State(listener: listener, loops: loops) }
        return (try? SocketAddress.localAddress(of: listener))?.peerAddress ?? PeerAddress("\(host):\(port)")
    }

    /// Open connections now, over all loops.
    public var connectionCount: Int {
        state.withLock { $0.loops }.reduce(0) { $0 + $1.connectionCount.load(ordering: .relaxed) }
    }

    public func stopAccepting() async {
        let (listener, loops) = state.withLock { state in
            defer { state.listener = -1 }
            return (state.listener, state.loops)
        }
        guard listener >= 0 else { return }
        for loop in loops { await loop.stopAccepting() }
        Glibc.close(listener)
    }

    public func close() async {
        await stopAccepting()
        let loops = state.withLock { state in
            defer { state.loops = [] }
            return state.loops
        }
        for loop in loops { loop.stop() }
        for loop in loops { await loop.finished.wait() }
    }

    /// A non-blocking listening socket on `host:port` (a numeric address or a name).
    static func openListener(host: String, port: Int, backlog: Int32) throws -> Int32 {
        let address: SocketAddress
        do {
            address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        } catch {
            throw RPCError(.unavailable, "cannot listen on \(host):\(port): cannot resolve \(host): \(error)", cause: error)
        }
        let family = address.protocol.rawValue
        let fd = socket(family, CEPOLL_SOCK_STREAM | CEPOLL_SOCK_FLAGS, 0)
        guard fd >= 0 else { throw Self.listenError(host, port, errno) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = address.withSockAddr { pointer, size in bind(fd, pointer, socklen_t(size)) }
        guard bound == 0, Glibc.listen(fd, backlog) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw Self.listenError(host, port, code)
        }
        return fd
    }

    private static func listenError(_ host: String, _ port: Int, _ code: Int32) -> RPCError {
        RPCError(.unavailable, SocketErrorDescription.listening(on: host, port: port, IOError(errnoCode: code, reason: "listen")))
    }
}

extension SocketAddress {
    /// The address a socket is bound to (getsockname).
    static func localAddress(of fd: Int32) throws -> SocketAddress { try address(of: fd, getsockname, "getsockname") }

    /// The peer of a connected socket (getpeername).
    static func remoteAddress(of fd: Int32) throws -> SocketAddress { try address(of: fd, getpeername, "getpeername") }

    private static func address(of fd: Int32, _ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32,
                                _ name: String) throws -> SocketAddress {
        var storage = sockaddr_storage()
        var size = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, &size) }
        }
        guard result == 0 else { throw IOError(errnoCode: errno, reason: name) }
        return try SocketAddress(storage, size: size)
    }

    init(_ storage: sockaddr_storage, size: socklen_t) throws {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            self = withUnsafeBytes(of: &storage) { SocketAddress($0.load(as: sockaddr_in.self), host: "") }
        case AF_INET6:
            self = withUnsafeBytes(of: &storage) { SocketAddress($0.load(as: sockaddr_in6.self), host: "") }
        default:
            throw IOError(errnoCode: EAFNOSUPPORT, reason: "address family \(storage.ss_family)")
        }
    }
}
