import ApusNet
import ApusRPC
import ApusTesting
import ApusThrift
import ApusWire
import ApusXSK
import CXDP
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One NIC queue's run-to-completion engine (DESIGN data flow): a pinned
/// thread that polls its AF_XDP socket and runs, in one pass,
///
///     RX batch ▸ ApusNet ▸ messages cut from the frames ▸ dispatch (handlers
///     that do not suspend answer here) ▸ stack events ▸ tasks resumed on this
///     queue's executor ▸ replies encoded into the TCP send buffers ▸ segments
///     into TX frames (ACKs ride on them) ▸ kick, completions
///
/// then sleeps in poll(2) on the socket and the executor's eventfd when idle,
/// or busy-polls. Nothing on this path takes a lock: other threads reach the
/// engine only through its executor's inbox and a control word.
///
/// The same engine serves (a listening port and a `ServerDispatcher`) or
/// calls (a pool of connections to one server, for `XDPClientTransport`).
public final class QueueEngine: @unchecked Sendable {
    enum Role {
        case server(dispatcher: ServerDispatcher, port: UInt16, framing: ThriftFraming?, protocolID: ThriftProtocolID?)
        case client(server: IPv4Address, port: UInt16, framing: ThriftFraming, protocolID: ThriftProtocolID,
                    connections: Int, multiplexed: Bool)
    }

    /// How the engine runs; the socket is configured separately.
    public struct Options: Sendable {
        /// Idle passes spent polling the rings before sleeping (wakeup mode).
        public var idleSpins = 0
        /// Never sleep: poll the rings (and, with a busy-polling socket, the driver) continuously.
        public var busyPoll = false
        /// Loss, reordering and duplication in both directions (testing).
        public var impairment: (LinkImpairment, seed: UInt64)?
        /// A server connection holding part of a message is reset after this long without data,
        /// so a stalled or malicious peer cannot pin a buffer forever.
        public var readTimeout = NetDuration.seconds(30)
        /// Called on the queue's thread about once a second with fresh counters.
        public var report: (@Sendable (EngineStatistics) -> Void)?

        public init() {}
    }

    public let queue: UInt32
    public let executor: QueueExecutor
    /// The CPU the queue's thread is pinned to.
    public internal(set) var cpu: Int?
    /// Whether the socket bound in zero-copy mode (known once started).
    public private(set) var isZeroCopy = false
    let role: Role
    let limits: ThriftLimits
    let logger: Logger
    let netConfiguration: NetStackConfiguration
    let options: Options

    // Queue thread only.
    var outbox: [OutboxEntry] = []
    private var flushing: [OutboxEntry] = []
    fileprivate var connections: [TCPHandle: XDPConnection] = [:]
    private var failed: [XDPConnection] = []
    private var closing: [(XDPConnection, since: NetInstant)] = []
    private var clientPool: [XDPConnection] = []
    private var nextClient = 0
    private var now = NetInstant.zero
    private var counters = EngineStatistics()
    private var stoppedListening = false
    private var closingSince: NetInstant?
    private var allClosingSince: NetInstant?

    // Any thread.
    private let control = Atomic<UInt8>(0)
    private let published = Mutex(EngineStatistics())
    let started = OneShot()
    let finished = OneShot()

    private enum Control {
        static let stopListening: UInt8 = 1
        static let closeAll: UInt8 = 2
        static let stop: UInt8 = 4
    }

    init(queue: UInt32, role: Role, network: NetStackConfiguration, limits: ThriftLimits, logger: Logger,
         options: Options) throws(XSKError) {
        self.queue = queue
        self.role = role
        self.netConfiguration = network
        self.limits = limits
        self.logger = logger
        self.options = options
        self.executor = try QueueExecutor()
        if case .client(_, _, let framing, let protocolID, let count, _) = role {
            clientPool = (0..<count).map { _ in
                XDPConnection(handle: nil, state: ConnectionState(remotePeer: .unknown, localPeer: .unknown),
                              framer: MessageFramer(framing: framing, protocol: protocolID, limits: limits), framing: framing)
            }
        }
    }

    /// The latest counters (published about once a second, and at the end).
    public var statistics: EngineStatistics { published.withLock { $0 } }

    /// Stops accepting connections; open ones keep being served.
    public func stopAccepting() { control.bitwiseOr(Control.stopListening, ordering: .relaxed); wake() }

    /// Closes every connection gracefully, then stops the loop.
    public func closeAll() { control.bitwiseOr(Control.closeAll, ordering: .relaxed); wake() }

    /// Stops the loop at once (connections are left to the peer's timeouts).
    public func stop() { control.bitwiseOr(Control.stop, ordering: .relaxed); wake() }

    private func wake() { executor.execute {} }

    /// Waits until the loop has returned.
    public func waitUntilFinished() async { await finished.wait() }

    // MARK: The loop

    /// The thread body: owns `socket` until it returns.
    func run(socket: consuming XSKSocket) {
        isZeroCopy = socket.isZeroCopy
        let fd = socket.fd
        run(device: XSKFrameDevice(socket: socket), pollFD: fd)
    }

    /// The thread body over any device; `pollFD` is what to sleep on when idle (-1: none,
    /// the device's deadlines alone).
    func run<Device: EngineDevice & ~Copyable>(device: consuming Device, pollFD: Int32) {
        executor.adoptCurrentThread()
        var stack = NetStack(configuration: netConfiguration)
        if case .server(_, let port, _, _) = role {
            do throws(NetError) { try stack.listen(on: port, backlog: 4096) } catch {
                logger.error("cannot listen", metadata: ["port": "\(port)", "error": "\(error)"])
            }
        }
        let busy = options.busyPoll
        started.signal()
        if let (impairment, seed) = options.impairment {
            var impaired = ImpairedDevice(device, receive: impairment, transmit: impairment, seed: seed)
            loop(device: &impaired, stack: &stack, fd: pollFD, busyPoll: busy)
            func summary(_ counters: ImpairedChannel.Counters) -> String {
                "dropped=\(counters.dropped) reordered=\(counters.reordered) duplicated=\(counters.duplicated)"
            }
            counters.impairedInbound = summary(impaired.inbound.counters)
            counters.impairedOutbound = summary(impaired.outbound.counters)
            finish(device: &impaired.base, stack: stack)
        } else {
            var device = device
            loop(device: &device, stack: &stack, fd: pollFD, busyPoll: busy)
            finish(device: &device, stack: stack)
        }
        finished.signal()
    }

    private func loop<Device: EngineDevice & ~Copyable>(device: inout Device, stack: inout NetStack, fd: Int32, busyPoll: Bool) {
        var idle = 0
        var nextReport = NetInstant.zero
        var nextTimeoutScan = NetInstant.zero
        var nextReadTimeoutScan = NetInstant.zero
        while true {
            now = MonotonicClock.now()
            let flags = control.load(ordering: .relaxed)
            if flags != 0 && handleControl(flags, stack: &stack) { break }

            var delivery = MessageDelivery(engine: self)
            let received = device.receive(at: now, maximum: 64) { frame in
                stack.receive(frame, at: now, delivery: &delivery)
            }
            if !failed.isEmpty { resetFailed(stack: &stack) }
            while let event = stack.nextEvent() { handle(event, stack: &stack) }
            if let next = timers.last, next.deadline <= now { fireTimers() }
            let ran = executor.runPending()
            if !outbox.isEmpty { flushOutbox(stack: &stack) }
            if !failed.isEmpty { resetFailed(stack: &stack) }
            if !closing.isEmpty { closeFinishedConnections(stack: &stack) }
            stack.poll(at: now, transmitter: &device)
            device.flush(at: now)

            if now >= nextTimeoutScan {
                nextTimeoutScan = now + .milliseconds(5)
                if !clientPool.isEmpty { expireCalls() }
            }
            if now >= nextReadTimeoutScan {
                nextReadTimeoutScan = now + .milliseconds(100)
                expireStalledInput()
                if !failed.isEmpty { resetFailed(stack: &stack) }
            }
            if now >= nextReport {
                nextReport = now + .seconds(1)
                publish(device: device, stack: stack)
            }
            guard received == 0 && ran == 0 && outbox.isEmpty && !executor.hasWork else {
                idle = 0
                continue
            }
            idle += 1
            if busyPoll {
                device.wait(until: now + .microseconds(1), now: now)  // a busy-polling socket drives the driver here
                continue
            }
            guard idle > options.idleSpins else { continue }
            var deadline = min(stack.nextDeadline, device.nextDeadline, nextReport)
            if let next = timers.last { deadline = min(deadline, next.deadline) }
            if clientPool.contains(where: { !$0.pending.isEmpty }) { deadline = min(deadline, nextTimeoutScan) }
            // Frames the device could not take yet (flush kicked while it took them): retry soon.
            if device.transmitOutstanding { deadline = min(deadline, now + .microseconds(50)) }
            sleep(fd: fd, until: deadline)
        }
    }

    /// ppoll(2) on the socket and the executor's eventfd until `deadline`.
    private func sleep(fd: Int32, until deadline: NetInstant) {
        guard deadline > now, executor.prepareToSleep() else { return }
        let nanoseconds = min(deadline.nanoseconds - now.nanoseconds, 1_000_000_000)
        var fds = (pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: executor.wakeup, events: Int16(POLLIN), revents: 0))
        withUnsafeMutableBytes(of: &fds) { raw in
            _ = cxdp_poll_ns(raw.baseAddress!.assumingMemoryBound(to: pollfd.self), 2, Int64(nanoseconds))
        }
        executor.didWake()
    }

    // MARK: Timers

    private struct Timer {
        var deadline: NetInstant
        var continuation: UnsafeContinuation<Void, Never>
    }

    /// Latest deadline first, so the next one is `last`.
    private var timers: [Timer] = []

    /// Suspends the calling task until `deadline` on the queue's own clock, without leaving the
    /// queue's thread (`Task.sleep` resumes through another thread's timer). Call it from a task
    /// that runs on this queue's executor.
    func sleep(until deadline: NetInstant) async {
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let timer = Timer(deadline: deadline, continuation: continuation)
            let insert: @Sendable () -> Void = { [self] in
                var low = 0
                var high = timers.count
                while low < high {
                    let middle = (low + high) / 2
                    if timers[middle].deadline > deadline { low = middle + 1 } else { high = middle }
                }
                timers.insert(timer, at: low)
            }
            if executor.isCurrent { insert() } else { executor.execute(insert) }
        }
    }

    private func fireTimers() {
        while let next = timers.last, next.deadline <= now {
            timers.removeLast()
            next.continuation.resume()
        }
    }

    /// True when the loop should end.
    private func handleControl(_ flags: UInt8, stack: inout NetStack) -> Bool {
        if flags & Control.stop != 0 { return true }
        if flags & Control.stopListening != 0 && !stoppedListening, case .server(_, let port, _, _) = role {
            stoppedListening = true
            stack.stopListening(on: port)
        }
        guard flags & Control.closeAll != 0 else { return false }
        if closingSince == nil {
            closingSince = now
            if case .server(_, let port, _, _) = role { stack.stopListening(on: port) }
            for connection in Array(connections.values) {
                failCalls(on: connection, RPCError(.unavailable, "the client is closing"))
                if let handle = connection.handle { try? stack.close(handle, at: now) }
            }
        }
        // Done once every connection is gone or in TIME-WAIT (the peer has all our data and our FIN).
        // TIME-WAIT connections linger a little: our last ACK may be lost, and only we can repeat
        // it when the peer retransmits its FIN (a stack in a process has no kernel to do it later).
        var open: [XDPConnection] = []
        var waiting = false
        for connection in connections.values {
            guard let handle = connection.handle, let state = stack.state(of: handle) else { continue }
            if state == .timeWait { waiting = true } else if state != .closed { open.append(connection) }
        }
        if open.isEmpty {
            if !waiting { return true }
            allClosingSince = allClosingSince ?? now
            return now - allClosingSince! >= .milliseconds(1500)
        }
        allClosingSince = nil
        if now - closingSince! > .seconds(3) {
            logger.warning("closing: connections still open after 3 s; resetting them", metadata: ["open": "\(open.count)"])
            for connection in open { if let handle = connection.handle { try? stack.abort(handle, at: now) } }
            while let event = stack.nextEvent() { handle(event, stack: &stack) }
            return true
        }
        return false
    }

    /// Lets sends drain, then publishes the final counters.
    private func finish<Device: EngineDevice & ~Copyable>(device: inout Device, stack: borrowing NetStack) {
        for _ in 0..<200 where device.transmitOutstanding {
            device.drainTransmit()
            usleep(500)
        }
        device.drainTransmit()
        publish(device: device, stack: stack)
    }

    private func publish<Device: EngineDevice & ~Copyable>(device: borrowing Device, stack: borrowing NetStack) {
        counters.queue = queue
        counters.net = stack.statistics
        counters.frames = device.frameAccounting
        counters.connections = connections.count
        counters.transmitBlocked = device.transmitBlocked
        let snapshot = counters
        published.withLock { $0 = snapshot }
        options.report?(snapshot)
    }

    // MARK: Input

    /// Bytes in order on `connection`, straight from the frame (`MessageDelivery`) or
    /// from ApusNet's receive buffer; returns how many were taken (all, unless blocked).
    fileprivate func consume(_ bytes: UnsafeRawBufferPointer, on connection: XDPConnection) -> Int {
        if connection.failure != nil { return bytes.count }
        connection.lastInput = now
        if connection.isBlocked { return 0 }
        if connection.partial.isEmpty {
            let used = processMessages(bytes, on: connection)
            if connection.failure == nil && used < bytes.count {
                // A message that spans segments: reassembled once, in a buffer sized by its frame header.
                if let expected = connection.expectedTotal { connection.partial.reserve(total: expected) }
                connection.partial.append(UnsafeRawBufferPointer(rebasing: bytes[used...]))
                counters.messagesReassembled += 1
            }
            return bytes.count
        }
        connection.partial.append(bytes)
        if let expected = connection.expectedTotal, connection.partial.count < expected { return bytes.count }
        let used = processMessages(connection.partial.readable, on: connection)
        if connection.failure == nil { connection.partial.removeFirst(used) }
        return bytes.count
    }

    /// Handles every complete message at the front of `bytes`; returns the bytes they took.
    private func processMessages(_ bytes: UnsafeRawBufferPointer, on connection: XDPConnection) -> Int {
        var offset = 0
        connection.expectedTotal = nil
        while offset < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            var expected: Int?
            let message: MessageFramer.Message?
            do throws(ThriftError) {
                message = try connection.framer.next(in: rest, expectedTotal: &expected)
            } catch {
                fail(connection, "malformed or oversized input: \(error)")
                return offset
            }
            guard let message else {
                connection.expectedTotal = expected
                break
            }
            handleMessage(UnsafeRawBufferPointer(rebasing: rest[message.range]), protocolID: message.protocolID, on: connection)
            if connection.failure != nil { return offset }
            offset += message.consumed
        }
        return offset
    }

    private func handleMessage(_ bytes: UnsafeRawBufferPointer, protocolID: ThriftProtocolID, on connection: XDPConnection) {
        switch role {
        case .server(let dispatcher, _, _, _):
            connection.framing = connection.framer.framing ?? .framed
            counters.messagesReceived += 1
            guard let sink = connection.sink else { return }
            if case .closeConnection(let reason) = dispatcher.dispatch(bytes, protocol: protocolID, connection: connection.state,
                                                                       sink: sink, executor: executor) {
                fail(connection, reason)
            }
        case .client:
            let message: IncomingMessage
            do throws(ThriftError) {
                message = try IncomingMessage(parsing: bytes, protocol: protocolID, limits: limits)
            } catch {
                fail(connection, "malformed reply: \(error)")
                return
            }
            counters.messagesReceived += 1
            guard let call = connection.pending.removeValue(forKey: message.header.sequenceID) else {
                logger.debug("reply for no outstanding call (late, after a timeout?)", metadata: ["seqid": "\(message.header.sequenceID)"])
                return
            }
            let name = message.header.name
            if name == call.method.method || name == call.method.multiplexedName {
                call.complete(.success(message))
            } else {
                call.complete(.failure(RPCError(.wrongMethodName, "reply to \(call.method) is named '\(name.string)'")))
            }
        }
    }

    private func expireStalledInput() {
        guard case .server = role else { return }
        for connection in connections.values where !connection.partial.isEmpty && now - connection.lastInput > options.readTimeout {
            fail(connection, "incomplete message and no data for \(now - connection.lastInput)")
        }
    }

    /// Marks the stream unusable; the loop resets the connection after the current step.
    private func fail(_ connection: XDPConnection, _ reason: String) {
        guard connection.failure == nil else { return }
        connection.failure = reason
        failed.append(connection)
        counters.connectionsFailed += 1
        logger.warning("resetting connection", metadata: ["peer": "\(connection.state.remotePeer)", "reason": "\(reason)"])
    }

    private func resetFailed(stack: inout NetStack) {
        for connection in failed {
            failCalls(on: connection, RPCError(.unavailable, "connection reset: \(connection.failure ?? "failed")"))
            connection.partial.removeFirst(connection.partial.count)
            connection.unsent.removeFirst(connection.unsent.count)
            if let handle = connection.handle { try? stack.abort(handle, at: now) }
        }
        failed.removeAll(keepingCapacity: true)
    }

    private func handle(_ event: NetEvent, stack: inout NetStack) {
        switch event {
        case .accepted(let handle, _):
            guard case .server = role else { return }
            let tuple = stack.endpoints(of: handle)
            let state = ConnectionState(
                remotePeer: tuple.map { PeerAddress("\($0.remoteAddress):\($0.remotePort)") } ?? .unknown,
                localPeer: tuple.map { PeerAddress("\($0.localAddress):\($0.localPort)") } ?? .unknown)
            guard case .server(_, _, let framing, let protocolID) = role else { return }
            let connection = XDPConnection(handle: handle, state: state,
                                           framer: MessageFramer(framing: framing, protocol: protocolID, limits: limits),
                                           framing: framing ?? .framed)
            connection.established = true
            connection.sink = XDPResponseSink(engine: self, connection: connection)
            connections[handle] = connection
            counters.accepted += 1
            drain(connection, stack: &stack)
        case .connected(let handle):
            guard let connection = connections[handle] else { return }
            connection.established = true
            outbox.append(contentsOf: connection.waiting)
            connection.waiting.removeAll()
            counters.connected += 1
        case .readable(let handle):
            if let connection = connections[handle] { drain(connection, stack: &stack) }
        case .writable(let handle):
            guard let connection = connections[handle] else { return }
            writeUnsent(connection, stack: &stack)
            if !connection.isBlocked { drain(connection, stack: &stack) }
        case .closed(let handle, let reason):
            guard let connection = connections.removeValue(forKey: handle) else { return }
            connection.state.markClosed()
            connection.sink = nil
            connection.handle = nil
            connection.established = false
            connection.partial.removeFirst(connection.partial.count)
            connection.unsent.removeFirst(connection.unsent.count)
            failCalls(on: connection, RPCError(.unavailable, "connection to \(connection.state.remotePeer) lost: \(reason)"))
            counters.closed += 1
            if reason != .normal { counters.closedAbnormally += 1 }
        case .datagram:
            break
        }
    }

    /// Reads what ApusNet buffered for `connection` (data that came before it was
    /// accepted, after a hole, or while it was blocked) and notices the peer's FIN.
    private func drain(_ connection: XDPConnection, stack: inout NetStack) {
        guard let handle = connection.handle else { return }
        while connection.failure == nil && !connection.isBlocked {
            let taken = (try? stack.read(from: handle, at: now) { bytes in self.consume(bytes, on: connection) }) ?? 0
            if taken == 0 { break }
        }
        if !connection.peerFinished && stack.isAtEndOfStream(handle) {
            connection.peerFinished = true
            if case .client = role {
                failCalls(on: connection, RPCError(.unavailable, "the server closed the connection"))
            }
            if !connection.closeRequested {
                connection.closeRequested = true
                closing.append((connection, now))
            }
        }
    }

    /// Closes connections whose peer finished, once nothing more is owed to them.
    private func closeFinishedConnections(stack: inout NetStack) {
        var index = 0
        while index < closing.count {
            let (connection, since) = closing[index]
            var inFlight = 0
            if case .server(let dispatcher, _, _, _) = role { inFlight = dispatcher.inFlightCalls }
            let owed = !connection.unsent.isEmpty || inFlight > 0
            if owed && now - since < .seconds(5) {
                index += 1
                continue
            }
            if let handle = connection.handle { try? stack.close(handle, at: now) }
            closing.remove(at: index)
        }
    }

    // MARK: Output

    private func flushOutbox(stack: inout NetStack) {
        swap(&outbox, &flushing)
        for entry in flushing { write(entry, stack: &stack) }
        flushing.removeAll(keepingCapacity: true)
    }

    private func write(_ entry: OutboxEntry, stack: inout NetStack) {
        let connection = entry.connection
        guard connection.failure == nil else { return }
        guard let handle = connection.handle else {
            if case .client(let server, let port, let framing, let protocolID, _, _) = role, closingSince == nil {
                do throws(NetError) {
                    let handle = try stack.connect(to: server, port: port, at: now)
                    connection.handle = handle
                    connection.state = ConnectionState(remotePeer: PeerAddress("\(server):\(port)"), localPeer: .unknown)
                    connection.framer = MessageFramer(framing: framing, protocol: protocolID, limits: limits)
                    connection.peerFinished = false
                    connection.closeRequested = false
                    connection.failure = nil
                    connections[handle] = connection
                    connection.waiting.append(entry)
                } catch {
                    failCall(entry, RPCError(.unavailable, "cannot connect to \(server):\(port): \(error)", requestWasNotSent: true))
                }
            }
            return  // a server connection that closed: the reply has nowhere to go
        }
        guard connection.established else {
            connection.waiting.append(entry)
            return
        }
        var message = entry.message
        let size: Int
        do throws(ThriftError) {
            size = try message.encodedSize(protocol: entry.protocolID)
        } catch {
            guard case .server = role else {
                failCall(entry, RPCError(.protocolError, "cannot encode the call to \(message.name): \(error)", requestWasNotSent: true))
                return
            }
            logger.error("reply could not be encoded", metadata: ["method": "\(message.name)", "error": "\(error)"])
            message = .exception(RPCError(.internalError, "reply could not be encoded: \(error.kind)"),
                                 name: message.name, sequenceID: message.sequenceID)
            guard let fallback = try? message.encodedSize(protocol: entry.protocolID) else { return }
            size = fallback
        }
        let header = connection.framing == .framed ? MessageBoundary.frameHeaderSize : 0
        let total = header + size
        let protocolID = entry.protocolID
        func encode(into space: UnsafeMutableRawBufferPointer) -> Int {
            if header > 0 { space.storeBytes(of: UInt32(size).bigEndian, as: UInt32.self) }
            guard let written = try? message.encode(protocol: protocolID, into: UnsafeMutableRawBufferPointer(rebasing: space[header..<total])),
                  written == size else { return 0 }
            return total
        }
        counters.messagesSent += 1
        if connection.unsent.isEmpty {
            // The common case: encoded once, straight into the send buffer ApusNet segments from.
            var done = false
            _ = try? stack.write(to: handle, maximumLength: total, at: now) { space in
                guard space.count >= total else { return 0 }
                let written = encode(into: space)
                done = written == total
                return written
            }
            if done { return }
        }
        counters.messagesDeferred += 1
        connection.unsent.append(length: total) { space in encode(into: space) }
        writeUnsent(connection, stack: &stack)
    }

    /// Moves held-back bytes into the send buffer as space frees.
    private func writeUnsent(_ connection: XDPConnection, stack: inout NetStack) {
        guard let handle = connection.handle else { return }
        while !connection.unsent.isEmpty {
            guard let written = try? stack.write(connection.unsent.readable, to: handle, at: now) else {
                connection.unsent.removeFirst(connection.unsent.count)
                return
            }
            if written == 0 {
                stack.notifyWhenWritable(handle)
                return
            }
            connection.unsent.removeFirst(written)
        }
    }

    // MARK: Client calls

    private func failCall(_ entry: OutboxEntry, _ error: RPCError) {
        if let call = entry.connection.pending.removeValue(forKey: entry.message.sequenceID) { call.complete(.failure(error)) }
    }

    private func failCalls(on connection: XDPConnection, _ error: RPCError) {
        guard !connection.pending.isEmpty || !connection.waiting.isEmpty else { return }
        let calls = connection.pending
        connection.pending = [:]
        connection.waiting = []
        for (_, call) in calls { call.complete(.failure(error)) }
    }

    private func expireCalls() {
        for connection in clientPool where !connection.pending.isEmpty {
            let expired = connection.pending.filter { $0.value.deadline <= now }
            for (sequenceID, call) in expired {
                connection.pending[sequenceID] = nil
                call.complete(.failure(RPCError(.deadlineExceeded, "\(call.method) got no reply within its timeout")))
            }
        }
    }

    /// Registers a call and queues its request; on the queue's thread.
    func startCall(_ request: any ThriftMessageBody, method: MethodDescriptor, options callOptions: CallOptions,
                   complete: @escaping (Result<IncomingMessage, RPCError>) -> Void) -> (XDPConnection, Int32)? {
        guard case .client(_, _, _, let protocolID, _, let multiplexed) = role else { return nil }
        if closingSince != nil {
            complete(.failure(RPCError(.unavailable, "the client is closed", requestWasNotSent: true)))
            return nil
        }
        let connection = clientPool[nextClient]
        nextClient = nextClient + 1 == clientPool.count ? 0 : nextClient + 1
        connection.nextSequenceID &+= 1
        let sequenceID = connection.nextSequenceID
        var deadline = NetInstant.distantFuture
        if let timeout = callOptions.timeout {
            let (seconds, attoseconds) = timeout.components
            deadline = MonotonicClock.now() + NetDuration(nanoseconds: seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        }
        connection.pending[sequenceID] = PendingCall(method: method, deadline: deadline, complete: complete)
        let name = multiplexed ? method.multiplexedName : method.method
        outbox.append(OutboxEntry(connection: connection,
                                  message: OutgoingMessage(name: name, type: .call, sequenceID: sequenceID, body: request),
                                  protocolID: protocolID))
        return (connection, sequenceID)
    }

    /// Queues a oneway request; on the queue's thread.
    func startOneway(_ request: any ThriftMessageBody, method: MethodDescriptor) {
        guard case .client(_, _, _, let protocolID, _, let multiplexed) = role, closingSince == nil else { return }
        let connection = clientPool[nextClient]
        nextClient = nextClient + 1 == clientPool.count ? 0 : nextClient + 1
        connection.nextSequenceID &+= 1
        let name = multiplexed ? method.multiplexedName : method.method
        outbox.append(OutboxEntry(connection: connection,
                                  message: OutgoingMessage(name: name, type: .oneway, sequenceID: connection.nextSequenceID, body: request),
                                  protocolID: protocolID))
    }

    /// Fails one outstanding call (cancellation); a late reply is then dropped.
    func cancelCall(on connection: XDPConnection, sequenceID: Int32, _ error: RPCError) {
        connection.pending.removeValue(forKey: sequenceID)?.complete(.failure(error))
    }
}

/// Offers in-order TCP payload to the engine while the frame is still in the UMEM.
private struct MessageDelivery: NetDelivery {
    let engine: QueueEngine

    mutating func deliver(_ bytes: UnsafeRawBufferPointer, on connection: TCPHandle) -> Int {
        // A connection not yet announced as accepted: ApusNet buffers, and `.accepted` reads it.
        guard let context = engine.connections[connection] else { return 0 }
        return engine.consume(bytes, on: context)
    }
}

/// Counters of one queue engine.
public struct EngineStatistics: Sendable {
    public var queue: UInt32 = 0
    public var accepted = 0
    public var connected = 0
    public var closed = 0
    public var closedAbnormally = 0
    public var connectionsFailed = 0
    public var connections = 0
    public var messagesReceived = 0
    public var messagesSent = 0
    /// Messages that did not fit the send buffer whole and waited in the connection's own buffer.
    public var messagesDeferred = 0
    /// Messages that spanned segments and were reassembled.
    public var messagesReassembled = 0
    public var transmitBlocked = 0
    public var net = NetStatistics()
    public var frames = FrameAccounting(total: 0)
    public var impairedInbound: String?
    public var impairedOutbound: String?

    public init() {}

    /// `key=value` pairs, the form scripts parse.
    public var summary: String {
        "accepted=\(accepted) connected=\(connected) closed=\(closed) closed_abnormally=\(closedAbnormally)"
            + " connections_failed=\(connectionsFailed) connections_open=\(connections) messages_in=\(messagesReceived)"
            + " messages_out=\(messagesSent) messages_deferred=\(messagesDeferred) messages_reassembled=\(messagesReassembled)"
            + " tcp_retransmissions=\(net.tcpRetransmissions) tcp_resets_sent=\(net.tcpResetsSent) tx_blocked=\(transmitBlocked) \(frames)"
    }
}

/// A one-time event other threads can await.
final class OneShot: Sendable {
    private let state = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func signal() {
        let waiters = state.withLock { state in
            state.done = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    var isDone: Bool { state.withLock { $0.done } }

    func wait() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                if state.done { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}
