import ApusRPC
import ApusThrift
import CEpoll
import Logging
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One loop thread of `EpollServerTransport`. Each pass:
///
///     epoll_wait ▸ accept ▸ read each readable connection into one shared
///     buffer and dispatch the messages the core cuts from it (handlers that
///     do not suspend answer here) ▸ tasks resumed on this loop's executor ▸
///     replies encoded into each connection's output, one write per connection
///     ▸ timers
///
/// Level-triggered: a connection not read to the end (paused, or a full
/// buffer) is reported again by the next `epoll_wait`. Other threads reach
/// the loop only through its executor (inbox and eventfd) and a control word.
final class EpollServerLoop: @unchecked Sendable {
    let index: Int
    let executor: LoopExecutor
    let finished = OneShot()
    /// Open connections (written by the loop, read by any thread).
    let connectionCount = Atomic<Int>(0)
    private let listener: Int32
    private let epoll: EpollSet
    private let dispatcher: ServerDispatcher
    private let policy: ServerConnectionPolicy
    /// Polls before sleeping (loop thread only).
    private var spin: SpinPolicy
    private let control = Atomic<UInt8>(0)
    private let stoppedAccepting = OneShot()

    // Loop thread only.
    private var connections: [Int32: EpollConnection] = [:]
    /// Connections with output to write at the end of the pass.
    private var dirty: [EpollConnection] = []
    private var flushing: [EpollConnection] = []
    private var readBuffer: UnsafeMutableRawBufferPointer
    /// The connection whose input is being read now, and how many replies that read made.
    private var reading: EpollConnection?
    private var repliesInRead = 0
    /// The time of this pass (replies made in it are stamped with it).
    private var now = Duration.zero
    private var listening = true
    private var nextScan = Duration.zero
    /// Reply bytes a connection may have unsent before it reads no more calls (NIO's default
    /// watermarks, so both kernel transports push back alike), and before which it resumes.
    private let highWater = 64 * 1024
    private let lowWater = 32 * 1024

    private enum Control {
        static let stopAccepting: UInt8 = 1
        static let stop: UInt8 = 2
    }

    /// Tags in `epoll_event.data.u64` besides connections' tokens (fd, and a serial above bit 32
    /// so that an event for a connection closed earlier in the same batch never reaches one
    /// accepted meanwhile on the same fd).
    private enum Tag {
        static let listener: UInt64 = 2 << 32
        static let firstSerial: UInt64 = 16
    }
    private var nextSerial = Tag.firstSerial
    /// Accepting paused until then: out of file descriptors or memory, the listener would report
    /// the same pending connection again at once.
    private var acceptPausedUntil: Duration?
    private var logLimiter = LogLimiter()

    init(index: Int, listener: Int32, dispatcher: ServerDispatcher, policy: ServerConnectionPolicy,
         spinLimit: Duration) throws {
        self.index = index
        spin = SpinPolicy(maximum: spinLimit)
        self.listener = listener
        self.dispatcher = dispatcher
        self.policy = policy
        epoll = try EpollSet()
        self.executor = LoopExecutor(waker: epoll)
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        // Exclusive: a new connection wakes one loop, not all of them.
        try epoll.watch(listener, events: CEPOLL_IN | CEPOLL_EXCLUSIVE, token: Tag.listener)
    }

    deinit { readBuffer.deallocate() }

    func start() throws {
        try EpollSet.startThread(name: "apus-epoll-\(index)") { self.run() }
    }

    /// Stops taking connections from the listener (returns once the loop no longer watches it).
    func stopAccepting() async {
        control.bitwiseOr(Control.stopAccepting, ordering: .relaxed)
        executor.execute {}
        await stoppedAccepting.wait()
    }

    /// Closes every connection (what was written is still sent) and ends the loop.
    func stop() {
        control.bitwiseOr(Control.stop, ordering: .relaxed)
        executor.execute {}
    }

    // MARK: The loop

    private func run() {
        executor.adoptCurrentThread()
        let capacity: Int32 = 128
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(capacity))
        defer { events.deallocate() }
        now = .now
        nextScan = now + .milliseconds(100)
        while true {
            let requested = control.load(ordering: .relaxed)
            if requested & Control.stopAccepting != 0 && listening { stopListening() }
            if requested & Control.stop != 0 { break }

            executor.runPending()
            flush(at: now)

            // Nothing to do: poll (`epoll_wait` with no timeout) while the spin policy's budget
            // lasts, then sleep until the next scan.
            let idle = !executor.hasWork && dirty.isEmpty
            var timeout: Int32 = 0
            if idle && spin.shouldSleep(at: now) {
                let wait = nextScan - now
                timeout = wait <= .zero ? 0 : Int32(clamping: (wait.inNanoseconds + 999_999) / 1_000_000)
            }
            let ready = epoll.wait(events, capacity: capacity, milliseconds: timeout > 0 && executor.beginSleep() ? timeout : 0)
            executor.endSleep()
            now = .now
            if ready > 0 || !idle { spin.worked(at: now) }
            for i in 0..<ready {
                let event = events[i]
                switch event.data.u64 {
                case EpollSet.wakeupToken: epoll.clearWakeup()
                case Tag.listener: accept(at: now)
                case let token: handle(token, event.events, at: now)
                }
            }
            if now >= nextScan { expire(at: now) }
            if let until = acceptPausedUntil, now >= until {
                acceptPausedUntil = nil
                if listening { try? epoll.watch(listener, events: CEPOLL_IN | CEPOLL_EXCLUSIVE, token: Tag.listener) }
            }
        }
        if listening { stopListening() }
        closeAll()
        executor.retire()
        finished.signal()
    }

    private func stopListening() {
        listening = false
        if acceptPausedUntil == nil { epoll.remove(listener) }
        stoppedAccepting.signal()
    }

    // MARK: Accepting

    private func accept(at now: Duration) {
        // A bounded batch: a connect flood cannot starve the connections already open.
        for _ in 0..<64 {
            let fd = cepoll_accept4(listener, CEPOLL_SOCK_FLAGS)
            if fd < 0 {
                switch errno {
                case EAGAIN, EWOULDBLOCK: return
                case EINTR, ECONNABORTED, EPROTO: continue
                default:
                    // Out of descriptors or memory: the connection stays in the backlog, and would
                    // be reported again at once. Accept nothing for 100 ms; log once a second.
                    let code = errno
                    epoll.remove(listener)
                    acceptPausedUntil = now + .milliseconds(100)
                    nextScan = min(nextScan, now + .milliseconds(100))
                    if let left = logLimiter.admit("accept", at: now) {
                        let hint = code == EMFILE || code == ENFILE ? " (raise the open-file limit: ulimit -n, or LimitNOFILE= under systemd)" : ""
                        let more = left > 0 ? " (\(left) more like this)" : ""
                        dispatcher.logger.warning("cannot accept connections: \(String(cString: strerror(code)))\(hint); retrying in 100 ms\(more)")
                    }
                    return
                }
            }
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let state = ConnectionState(
                remotePeer: (try? SocketAddress.remoteAddress(of: fd))?.peerAddress ?? .unknown,
                localPeer: (try? SocketAddress.localAddress(of: fd))?.peerAddress ?? .unknown)
            let token = UInt64(UInt32(bitPattern: fd)) | nextSerial << 32
            nextSerial = nextSerial >= UInt64(UInt32.max) ? Tag.firstSerial : nextSerial + 1
            let connection = EpollConnection(fd: fd, token: token, state: state, core: ServerConnection(configuration: policy, at: now), loop: self)
            do {
                try epoll.watch(fd, events: EpollConnection.readEvents, token: token)
            } catch {
                Glibc.close(fd)
                continue
            }
            connections[fd] = connection
            connectionCount.store(connections.count, ordering: .relaxed)
            arm(connection)
        }
    }

    // MARK: Input

    private func handle(_ token: UInt64, _ events: UInt32, at now: Duration) {
        guard let connection = connections[Int32(truncatingIfNeeded: token)], connection.token == token else { return }
        if events & (CEPOLL_ERR | CEPOLL_HUP) != 0 && connection.readingStopped {
            // Reported whatever the interest: a reset while reading is paused or after the FIN.
            return lost(connection, Self.socketError(connection.fd) ?? ECONNRESET)
        }
        if events & CEPOLL_OUT != 0 { write(connection, at: now) }
        if events & (CEPOLL_IN | CEPOLL_RDHUP | CEPOLL_HUP | CEPOLL_ERR) != 0 {
            read(connection, at: now)
        }
    }

    private func read(_ connection: EpollConnection, at now: Duration) {
        guard !connection.isClosed, !connection.readingStopped else { return }
        let count = Glibc.read(connection.fd, readBuffer.baseAddress, readBuffer.count)
        if count > 0 {
            reading = connection
            repliesInRead = 0
            consume(UnsafeRawBufferPointer(rebasing: readBuffer[..<count]), on: connection, at: now)
            reading = nil
        } else if count == 0 {
            peerFinished(connection, at: now)
        } else {
            switch errno {
            case EAGAIN, EWOULDBLOCK, EINTR: return
            default: lost(connection, errno)
            }
        }
        if !connection.isClosed { arm(connection) }
    }

    /// Runs the core over `bytes` (and what it stashed before), dispatching each message.
    private func consume(_ bytes: UnsafeRawBufferPointer, on connection: EpollConnection, at now: Duration) {
        var input = MessageReader.Input(bytes)
        while true {
            switch connection.core.receive(&input, at: now) {
            case .needMore:
                return
            case .paused:
                // Too many replies owed: keep the rest, read no more until replies go out.
                pause(connection, keeping: &input, at: now)
                return
            case .action(let action):
                apply(action, to: connection, at: now)
                return
            case .message(let message):
                // The core is not borrowed here: a reply made inline re-enters through `reply`.
                let outcome = dispatcher.dispatch(message.bytes, protocol: message.protocolID, connection: connection.state,
                                                  sink: connection.sink, executor: executor, header: message.header)
                if let action = connection.core.dispatched(outcome) {
                    apply(action, to: connection, at: now)
                    return
                }
                // Replies the socket has not taken pile up: read no more calls.
                if connection.output.count >= highWater {
                    pause(connection, keeping: &input, at: now)
                    return
                }
            }
        }
    }

    private func pause(_ connection: EpollConnection, keeping input: inout MessageReader.Input, at now: Duration) {
        connection.core.stash(&input, at: now)
        guard !connection.paused else { return }
        connection.paused = true
        connection.updateInterest(epoll)
    }

    /// After replies went out: a paused connection reads what it stashed, then the socket again.
    private func resumeIfReplied(_ connection: EpollConnection, at now: Duration) {
        guard connection.paused, !connection.isClosed, !connection.core.isPaused, connection.held.isEmpty,
              connection.output.count < lowWater else { return }
        connection.paused = false
        consume(UnsafeRawBufferPointer(start: nil, count: 0), on: connection, at: now)
        if !connection.isClosed { connection.updateInterest(epoll) }
    }

    private func peerFinished(_ connection: EpollConnection, at now: Duration) {
        connection.peerHasFinished = true
        connection.updateInterest(epoll)  // nothing more to read
        if let action = connection.core.peerFinished(at: now) {
            apply(action, to: connection, at: now)
        } else if connection.core.hasBufferedInput && !connection.paused {
            // Calls that arrived before the FIN and were stashed are still answered.
            consume(UnsafeRawBufferPointer(start: nil, count: 0), on: connection, at: now)
        }
    }

    // MARK: Output

    /// A reply from the dispatcher, on the loop's thread: sized by the core and encoded into the
    /// connection's output now (so back pressure sees it at once), and written at the end of the
    /// pass, except the first reply of a read, which goes out at once.
    ///
    /// That exception is what keeps a pipelining client busy: holding every reply of a read to
    /// the end put client and server in lock step, each idle while the other worked (measured on
    /// one connection with 4 calls in flight: 46k calls/s, both cores half idle, against 72k for
    /// Apache's server, which writes each reply as it is made). The rest of a burst still costs
    /// one write, and a call alone on its connection one write, as before.
    func reply(_ message: consuming OutgoingMessage, protocol protocolID: ThriftProtocolID, on connection: EpollConnection) {
        guard !connection.isClosed else { return }
        let (reply, then) = connection.core.prepareReply(consume message, protocol: protocolID, at: now)
        if let reply {
            if connection.output.count >= highWater || !connection.held.isEmpty {
                // Unencoded while the peer does not read: references, not copies, pile up.
                connection.held.append(reply)
            } else {
                connection.output.append(length: reply.size) { reply.write(into: $0) }
            }
        }
        if let then, connection.closeWhenWritten == nil {
            // Applied by the write step, never here: this may run inside `consume`.
            connection.closeWhenWritten = then
            connection.closingSince = now
            nextScan = min(nextScan, now + policy.drainTimeout)
        }
        if reading === connection {
            repliesInRead += 1
            if repliesInRead == 1 && !connection.writeBlocked { sendNow(connection) }
        }
        markDirty(connection)
    }

    /// One send of what is queued, inside a read: a failure or a full socket is left to the
    /// pass's write step (which closes or waits for EPOLLOUT), since the read is still going on.
    private func sendNow(_ connection: EpollConnection) {
        let pending = connection.output.readable
        guard pending.count > 0 else { return }
        let sent = Glibc.send(connection.fd, pending.baseAddress, pending.count, Int32(MSG_NOSIGNAL))
        if sent > 0 { connection.output.removeFirst(sent) }
    }

    /// Writes every connection that has new output.
    private func flush(at now: Duration) {
        guard !dirty.isEmpty else { return }
        // Swapped, not copied: `removeAll(keepingCapacity:)` on an array still shared with a
        // copy allocates a new one, every pass.
        swap(&dirty, &flushing)
        defer { flushing.removeAll(keepingCapacity: true) }
        for connection in flushing {
            connection.isDirty = false
            guard !connection.isClosed else { continue }
            write(connection, at: now)
        }
    }

    private func markDirty(_ connection: EpollConnection) {
        guard !connection.isDirty else { return }
        connection.isDirty = true
        dirty.append(connection)
    }

    /// Writes what the connection has queued (encoding held replies as room frees up).
    private func write(_ connection: EpollConnection, at now: Duration) {
        while !connection.isClosed {
            if connection.output.isEmpty {
                guard !connection.held.isEmpty else { break }
                var encoded = 0
                for reply in connection.held {
                    if connection.output.count >= highWater { break }
                    connection.output.append(length: reply.size) { reply.write(into: $0) }
                    encoded += 1
                }
                connection.held.removeFirst(encoded)
            }
            let pending = connection.output.readable
            let sent = Glibc.send(connection.fd, pending.baseAddress, pending.count, Int32(MSG_NOSIGNAL))
            if sent > 0 {
                connection.output.removeFirst(sent)
                if sent < pending.count { break }  // the socket buffer is full
                continue
            }
            if sent < 0 {
                switch errno {
                case EAGAIN, EWOULDBLOCK: break
                case EINTR: continue
                default: lost(connection, errno); return
                }
            }
            break
        }
        guard !connection.isClosed else { return }
        let blocked = !connection.output.isEmpty || !connection.held.isEmpty
        if blocked != connection.writeBlocked {
            connection.writeBlocked = blocked
            connection.updateInterest(epoll)
        }
        if !blocked {
            if connection.closeWhenWritten != nil {
                close(connection)
                return
            }
            resumeIfReplied(connection, at: now)
        }
        arm(connection)
    }

    // MARK: Actions and time

    private func apply(_ action: ServerConnection.Action, to connection: EpollConnection, at now: Duration) {
        guard !connection.isClosed else { return }
        dispatcher.log(action, peer: connection.state.remotePeer)
        switch action {
        case .reset:
            var linger = linger(l_onoff: 1, l_linger: 0)  // the close sends RST
            _ = setsockopt(connection.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
            close(connection)
        case .close:
            if connection.output.isEmpty && connection.held.isEmpty {
                close(connection)
            } else {
                // After the rest is written, or at the drain timeout when the peer stopped reading.
                connection.closeWhenWritten = action
                connection.closingSince = now
                nextScan = min(nextScan, now + policy.drainTimeout)
            }
        }
    }

    private static func socketError(_ fd: Int32) -> Int32? {
        var code: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &size) == 0, code != 0 else { return nil }
        return code
    }

    /// A failed read or write: the peer reset, or the connection broke.
    private func lost(_ connection: EpollConnection, _ code: Int32) {
        if code != ECONNRESET && code != EPIPE {
            dispatcher.logger.debug("connection lost", metadata: ["peer": "\(connection.state.remotePeer)", "error": "\(String(cString: strerror(code)))"])
        }
        close(connection)
    }

    private func close(_ connection: EpollConnection) {
        guard !connection.isClosed else { return }
        connection.close()
        Glibc.close(connection.fd)  // also leaves the epoll set
        connections.removeValue(forKey: connection.fd)
        connectionCount.store(connections.count, ordering: .relaxed)
    }

    /// Brings the next scan forward to the connection's next deadline.
    private func arm(_ connection: EpollConnection) {
        if let deadline = connection.core.nextDeadline, deadline < nextScan { nextScan = deadline }
    }

    private func expire(at now: Duration) {
        var next = min(now + .seconds(1), acceptPausedUntil ?? now + .seconds(1))
        for connection in connections.values {
            if let since = connection.closingSince, now - since >= policy.drainTimeout {
                close(connection)
                continue
            }
            if let deadline = connection.core.nextDeadline {
                if deadline <= now, let action = connection.core.expire(at: now) {
                    apply(action, to: connection, at: now)
                }
                if !connection.isClosed, let later = connection.core.nextDeadline { next = min(next, later) }
            }
            if let since = connection.closingSince { next = min(next, since + policy.drainTimeout) }
        }
        nextScan = next
    }

    /// At the loop's end: what is written goes out (best effort, without waiting), then every
    /// connection closes.
    private func closeAll() {
        let now = Duration.now
        flush(at: now)
        for connection in Array(connections.values) {
            if let action = connection.core.beginDraining(at: now) { dispatcher.log(action, peer: connection.state.remotePeer) }
            close(connection)
        }
    }
}
