import ApusRPC
import CEpoll
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// An epoll instance and the eventfd that wakes it: what every epoll loop
/// (server or client) owns. Level-triggered; each registration carries a
/// 64-bit token the loop chooses.
final class EpollSet: LoopWaker, @unchecked Sendable {
    let fd: Int32
    private let wakeupFD: Int32
    /// The token of the wakeup eventfd's events.
    static let wakeupToken: UInt64 = 1 << 32

    init() throws {
        fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "epoll_create1") }
        wakeupFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wakeupFD >= 0 else {
            let code = errno
            Glibc.close(fd)
            throw IOError(errnoCode: code, reason: "eventfd")
        }
        try watch(wakeupFD, events: CEPOLL_IN, token: Self.wakeupToken)
    }

    deinit {
        Glibc.close(wakeupFD)
        Glibc.close(fd)
    }

    /// Adds `target` to the set (or, with `EPOLL_CTL_MOD`, changes what it is watched for).
    func watch(_ target: Int32, events: UInt32, token: UInt64, operation: Int32 = EPOLL_CTL_ADD) throws(IOError) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = token
        guard epoll_ctl(fd, operation, target, &event) == 0 else { throw IOError(errnoCode: errno, reason: "epoll_ctl") }
    }

    func remove(_ target: Int32) { epoll_ctl(fd, EPOLL_CTL_DEL, target, nil) }

    /// Waits for events (timeout in milliseconds, 0: poll); returns how many are in `events`.
    func wait(_ events: UnsafeMutablePointer<epoll_event>, capacity: Int32, milliseconds: Int32) -> Int {
        Int(max(0, epoll_wait(fd, events, capacity, milliseconds)))
    }

    /// Wakes the loop (any thread).
    func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeupFD, &one, 8)
    }

    /// Clears the wakeup (the loop, when its token is reported).
    func clearWakeup() {
        var count: UInt64 = 0
        _ = Glibc.read(wakeupFD, &count, 8)
    }

    /// Runs `body` on a new thread named `name` (at most 15 bytes are kept).
    static func startThread(name: String, _ body: @escaping () -> Void) throws {
        final class Start {
            let name: String
            let body: () -> Void
            init(name: String, body: @escaping () -> Void) { self.name = name; self.body = body }
        }
        let start = Unmanaged.passRetained(Start(name: name, body: body))
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { argument in
            let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
            _ = cepoll_set_thread_name(String(start.name.utf8.prefix(15))!)
            start.body()
            return nil
        }, start.toOpaque())
        guard result == 0 else {
            start.release()
            throw IOError(errnoCode: result, reason: "pthread_create")
        }
        pthread_detach(thread)
    }
}
