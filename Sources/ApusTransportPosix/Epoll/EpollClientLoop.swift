import ApusRPC
import ApusThrift
import CEpoll
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The loop thread of an `EpollClientTransport`. Each pass:
///
///     tasks resumed on this loop's executor (callers start their next calls)
///     ▸ requests encoded into each connection's output, one send per
///     connection ▸ epoll_wait ▸ connects completed ▸ replies read and
///     decoded, callers resumed ▸ call deadlines and connect timeouts
final class EpollClientLoop: ConnectionCallCancelling, @unchecked Sendable {
    let executor: LoopExecutor
    let finished = OneShot()
    private let epoll: EpollSet
    private let host: String
    private let port: Int
    private let configuration: EpollClientTransport.Configuration
    private let stopping = Atomic<Bool>(false)

    // Loop thread only.
    private let pool: [EpollClientConnection]
    private var next = 0
    private var connections: [Int32: EpollClientConnection] = [:]
    private var dirty: [EpollClientConnection] = []
    private var flushing: [EpollClientConnection] = []
    private var readBuffer: UnsafeMutableRawBufferPointer
    private var nextSerial: UInt64 = 16
    private var address: SocketAddress?
    /// When deadlines and connect timeouts are next looked at.
    private var nextScan = Duration.zero
    /// Polls before sleeping while replies are awaited.
    private var spin: SpinPolicy

    init(host: String, port: Int, configuration: EpollClientTransport.Configuration) throws {
        self.host = host
        self.port = port
        self.configuration = configuration
        spin = SpinPolicy(maximum: configuration.spinLimit)
        epoll = try EpollSet()
        executor = LoopExecutor(waker: epoll)
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        let core = ClientConnection<OutgoingMessage>.Configuration(
            framing: configuration.header != nil ? .framed : configuration.framing, protocol: configuration.protocolID,
            limits: configuration.limits, endpoint: "\(host):\(port)")
        pool = (0..<configuration.connections).map { _ in EpollClientConnection(core: ClientConnection(configuration: core)) }
    }

    deinit { readBuffer.deallocate() }

    func start() throws {
        try EpollSet.startThread(name: "apus-epoll-cli") { self.run() }
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        executor.execute {}
    }

    // MARK: Calls (on the loop's thread)

    private func pick() -> EpollClientConnection {
        let connection = pool[next]
        next = next + 1 == pool.count ? 0 : next + 1
        return connection
    }

    private var naming: ClientConnection<OutgoingMessage>.Naming {
        .init(multiplexed: configuration.multiplexed, header: configuration.header, protocol: configuration.protocolID)
    }

    /// Registers a call and queues its request; nil when it failed at once.
    func startCall(_ request: any ThriftMessageBody, method: MethodDescriptor, options: CallOptions,
                   complete: @escaping ClientConnection<OutgoingMessage>.Completion) -> ConnectionCall<EpollClientLoop>? {
        let connection = pick()
        let now = Duration.now
        let (send, sequenceID, deadline) = connection.core.startCall(request, method: method, options: options, naming: naming,
                                                                     at: now, complete: complete)
        if let deadline, deadline < nextScan { nextScan = deadline }
        guard apply(consume send, on: connection) else { return nil }
        return ConnectionCall(client: self, connection: connection, sequenceID: sequenceID, method: method)
    }

    /// Queues a oneway request; false when the client is closed.
    func startOneway(_ request: any ThriftMessageBody, method: MethodDescriptor) -> Bool {
        let connection = pick()
        return apply(connection.core.startOneway(request, method: method, naming: naming), on: connection)
    }

    /// Fails one outstanding call (cancellation); a late reply is then dropped.
    func cancel(on connection: EpollClientConnection, sequenceID: Int32, _ error: RPCError) {
        connection.core.cancel(sequenceID, error)?.run()
    }

    private func apply(_ send: consuming ClientConnection<OutgoingMessage>.Send, on connection: EpollClientConnection) -> Bool {
        switch consume send {
        case .write(let message): enqueue(message, on: connection)
        case .connect: open(connection)
        case .wait: break
        case .fail(let failure):
            failure?.run()
            return false
        }
        return true
    }

    /// Encodes a request into the connection's output; it is sent at the end of the pass. Moved
    /// into the encoder, not copied, as the AF_XDP client does (a copy retains its references).
    private func enqueue(_ message: consuming OutgoingMessage, on connection: EpollClientConnection) {
        let (sequenceID, name) = (message.sequenceID, message.name)
        do throws(ThriftError) {
            let request = try WireMessage(consume message, protocol: configuration.protocolID, framing: configuration.framing)
            connection.output.append(length: request.size) { request.write(into: $0) }
        } catch {
            connection.core.cancel(sequenceID, RPCError(
                .protocolError, "cannot encode the call to \(name): \(error)", requestWasNotSent: true))?.run()
            return
        }
        if !connection.isDirty {
            connection.isDirty = true
            dirty.append(connection)
        }
    }

    // MARK: Connecting

    private func open(_ connection: EpollClientConnection) {
        do {
            if address == nil { address = try SocketAddress.makeAddressResolvingHost(host, port: port) }
            let address = address!
            let fd = socket(address.protocol.rawValue, CEPOLL_SOCK_STREAM | CEPOLL_SOCK_FLAGS, 0)
            guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let result = address.withSockAddr { pointer, size in Glibc.connect(fd, pointer, socklen_t(size)) }
            guard result == 0 || errno == EINPROGRESS else {
                let code = errno
                Glibc.close(fd)
                throw IOError(errnoCode: code, reason: "connect")
            }
            let token = UInt64(UInt32(bitPattern: fd)) | nextSerial << 32
            nextSerial = nextSerial >= UInt64(UInt32.max) ? 16 : nextSerial + 1
            do {
                try epoll.watch(fd, events: CEPOLL_IN | CEPOLL_OUT | CEPOLL_RDHUP, token: token)
            } catch {
                Glibc.close(fd)
                throw error
            }
            connection.fd = fd
            connection.token = token
            connection.connectingSince = .now
            nextScan = min(nextScan, Duration.now + configuration.connectTimeout)
            connections[fd] = connection
        } catch {
            let (failures, _) = connection.core.connectFailed(Self.describe(error))
            for failure in failures { failure.run() }
        }
    }

    private static func describe(_ error: any Error) -> String {
        guard let code = (error as? IOError)?.errnoCode else { return "\(error)" }
        switch code {
        case ECONNREFUSED: return "refused: nothing listens on that port (is the server running?)"
        case ETIMEDOUT: return "timed out: no answer (server down, or a firewall drops it)"
        case ENETUNREACH, EHOSTUNREACH: return "no route to the host"
        default: return String(cString: strerror(code))
        }
    }

    private func connectCompleted(_ connection: EpollClientConnection) {
        connection.connectingSince = nil
        var code: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(connection.fd, SOL_SOCKET, SO_ERROR, &code, &size)
        guard code == 0 else {
            drop(connection)
            let (failures, _) = connection.core.connectFailed(Self.describe(IOError(errnoCode: code, reason: "connect")))
            for failure in failures { failure.run() }
            return
        }
        try? epoll.watch(connection.fd, events: CEPOLL_IN | CEPOLL_RDHUP, token: connection.token, operation: EPOLL_CTL_MOD)
        for message in connection.core.connected() { enqueue(message, on: connection) }
    }

    // MARK: The loop

    /// Some call's reply is still to come.
    private var awaitsReplies: Bool {
        for connection in pool where connection.core.pendingCalls > 0 { return true }
        return false
    }

    private func run() {
        executor.adoptCurrentThread()
        let capacity: Int32 = 64
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(capacity))
        defer { events.deallocate() }
        var now = Duration.now
        nextScan = now + .milliseconds(100)
        while !stopping.load(ordering: .relaxed) {
            executor.runPending()
            flush()
            // Nothing to do: while replies are awaited, poll (`epoll_wait` with no timeout) as long
            // as the spin policy's budget lasts; then sleep until the next scan.
            var timeout: Int32 = 0
            let idle = !executor.hasWork && dirty.isEmpty
            if idle && (!awaitsReplies || spin.shouldSleep(at: now)) {
                let wait = nextScan - now
                timeout = wait <= .zero ? 0 : Int32(clamping: (wait.inNanoseconds + 999_999) / 1_000_000)
            }
            let ready = epoll.wait(events, capacity: capacity, milliseconds: timeout > 0 && executor.beginSleep() ? timeout : 0)
            executor.endSleep()
            now = .now
            if ready > 0 || !idle { spin.worked(at: now) }
            for i in 0..<ready {
                let event = events[i]
                if event.data.u64 == EpollSet.wakeupToken {
                    epoll.clearWakeup()
                    continue
                }
                guard let connection = connections[Int32(truncatingIfNeeded: event.data.u64)], connection.token == event.data.u64 else { continue }
                if connection.connectingSince != nil {
                    connectCompleted(connection)
                    continue
                }
                if event.events & CEPOLL_OUT != 0 { write(connection) }
                if event.events & (CEPOLL_IN | CEPOLL_RDHUP | CEPOLL_HUP | CEPOLL_ERR) != 0 { read(connection) }
            }
            if now >= nextScan { nextScan = expire(at: now) }
        }
        for connection in pool {
            drop(connection)
            for failure in connection.core.close().failures { failure.run() }
        }
        executor.runPending()
        executor.retire()
        finished.signal()
    }

    // MARK: Input

    private func read(_ connection: EpollClientConnection) {
        guard connection.fd >= 0 else { return }
        let count = Glibc.read(connection.fd, readBuffer.baseAddress, readBuffer.count)
        if count > 0 {
            var input = MessageReader.Input(UnsafeRawBufferPointer(rebasing: readBuffer[..<count]))
            while true {
                switch connection.core.receive(&input) {
                case .needMore:
                    return
                case .reply(let complete, let result):
                    complete(result)  // decodes now, while the bytes are valid; the caller resumes later
                case .late:
                    continue
                case .reset(let reason):
                    var linger = linger(l_onoff: 1, l_linger: 0)  // the close sends RST
                    _ = setsockopt(connection.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
                    return lose(connection, reason)
                }
            }
        } else if count == 0 {
            lose(connection, "the server closed the connection")
        } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
            lose(connection, String(cString: strerror(errno)))
        }
    }

    /// The open connection is gone: its calls fail; the next call reconnects.
    private func lose(_ connection: EpollClientConnection, _ reason: String) {
        drop(connection)
        for failure in connection.core.lost(reason) { failure.run() }
    }

    private func drop(_ connection: EpollClientConnection) {
        guard connection.fd >= 0 else { return }
        connections.removeValue(forKey: connection.fd)
        Glibc.close(connection.fd)
        connection.fd = -1
        connection.connectingSince = nil
        connection.writeBlocked = false
        connection.output.removeAll()
    }

    // MARK: Output

    private func flush() {
        guard !dirty.isEmpty else { return }
        // Swapped, not copied: emptying an array still shared with a copy allocates a new one.
        swap(&dirty, &flushing)
        defer { flushing.removeAll(keepingCapacity: true) }
        for connection in flushing {
            connection.isDirty = false
            if connection.connectingSince == nil { write(connection) }
        }
    }

    private func write(_ connection: EpollClientConnection) {
        while connection.fd >= 0 && !connection.output.isEmpty {
            let pending = connection.output.readable
            let sent = Glibc.send(connection.fd, pending.baseAddress, pending.count, Int32(MSG_NOSIGNAL))
            if sent > 0 {
                connection.output.removeFirst(sent)
                continue
            }
            if sent < 0 && errno == EINTR { continue }
            if sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK {
                return lose(connection, String(cString: strerror(errno)))
            }
            break
        }
        guard connection.fd >= 0 else { return }
        let blocked = !connection.output.isEmpty
        if blocked != connection.writeBlocked {
            connection.writeBlocked = blocked
            let events = CEPOLL_IN | CEPOLL_RDHUP | (blocked ? CEPOLL_OUT : 0)
            try? epoll.watch(connection.fd, events: events, token: connection.token, operation: EPOLL_CTL_MOD)
        }
    }

    // MARK: Time

    /// Fails calls past their deadline and connects past the timeout; returns when to look again.
    private func expire(at now: Duration) -> Duration {
        var next = now + .milliseconds(100)
        for connection in pool {
            if let since = connection.connectingSince {
                if now - since >= configuration.connectTimeout {
                    drop(connection)
                    let (failures, _) = connection.core.connectFailed(
                        "timed out after \(configuration.connectTimeout) (server down, or a firewall drops the SYN)")
                    for failure in failures { failure.run() }
                } else {
                    next = min(next, since + configuration.connectTimeout)
                }
            }
            for failure in connection.core.expire(at: now) { failure.run() }
            if let deadline = connection.core.nextDeadline { next = min(next, deadline) }
        }
        return next
    }
}
