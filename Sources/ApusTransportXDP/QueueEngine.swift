import ApusNet
import ApusRPC
import ApusXSK
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One NIC queue's run-to-completion engine (DESIGN data flow): a pinned
/// thread that polls its AF_XDP socket and runs, in one pass,
///
///     RX batch ▸ ApusNet ▸ the application reads messages straight from the
///     frames and dispatches them (handlers that do not suspend answer here) ▸
///     stack events ▸ timers ▸ tasks resumed on this queue's executor ▸
///     replies and requests encoded into the TCP send buffers ▸ segments into
///     TX frames (ACKs ride on them) ▸ kick, completions
///
/// then sleeps in ppoll(2) on the socket and the executor's eventfd when idle,
/// or busy-polls. Nothing on this path takes a lock: other threads reach the
/// engine only through its executor's inbox and a control word.
///
/// What runs on it is a `QueueApplication`: a server's connections or a
/// client's pool, each a thin adapter between ApusNet and the stream core.
public final class QueueEngine: @unchecked Sendable {
    /// How the engine runs; the socket is configured separately.
    public struct Options: Sendable {
        /// Idle passes spent polling the rings before sleeping (wakeup mode), before `spinLimit`.
        public var idleSpins = 0
        /// The most an idle loop polls for the next packet before sleeping; how much of it is
        /// spent adapts to the traffic (`SpinPolicy`). Zero: sleep as soon as a pass is empty.
        public var spinLimit: Duration = .microseconds(50)
        /// Never sleep: poll the rings (and, with a busy-polling socket, the driver) continuously.
        public var busyPoll = false
        /// The most frames a pass reads before what they produced is transmitted (nil: the
        /// application's default, 8 for a server's queue and 64 for a client's).
        ///
        /// A pass that reads a whole burst answers it in one transmit at its end, and the peer,
        /// idle meanwhile, answers that in one burst: the two sides take turns and neither core
        /// is ever more than half busy (at 16 connections x 8 calls, one pass and one wake-up
        /// per 128 calls on each side, both cores 45-55% busy). A server that transmits after
        /// every 8 frames hands its peer work while it goes on, and the two overlap: 1.4-1.5x
        /// the calls per second there and the server's core 80-95% busy, for more CPU per call
        /// (a sixth more; a third with the default spin limit, which polls through the short
        /// gaps between the peer's bursts): each transmit wakes the peer's receive processing,
        /// on a VM an interrupt across vCPUs. A client reading smaller batches only added such
        /// wake-ups.
        public var receiveBatch: Int?
        /// Runs the engine on a device wrapped around the socket (loss, reordering and
        /// duplication for testing: `ImpairingWrapper` in ApusTesting).
        public var deviceWrapper: (any EngineDeviceWrapper)?
        /// Called on the queue's thread about once a second with fresh counters.
        public var report: (@Sendable (EngineStatistics) -> Void)?

        public init() {}
    }

    public let queue: UInt32
    @usableFromInline package let executor: QueueExecutor
    /// What wakes the queue's thread (`executor`'s waker).
    let wakeup: QueueWakeup
    /// The CPU the queue's thread is pinned to.
    public internal(set) var cpu: Int?
    /// Whether the socket bound in zero-copy mode (known once started).
    public private(set) var isZeroCopy = false
    let logger: Logger
    let netConfiguration: NetStackConfiguration
    let options: Options
    private(set) var application: (any QueueApplication)!

    // Queue thread only.
    var counters = EngineStatistics()
    private var now = NetInstant.zero
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

    init(queue: UInt32, network: NetStackConfiguration, logger: Logger, options: Options,
         application: (QueueEngine) -> any QueueApplication) throws(XSKError) {
        self.queue = queue
        self.netConfiguration = network
        self.logger = logger
        self.options = options
        self.wakeup = try QueueWakeup()
        self.executor = QueueExecutor(waker: wakeup)
        self.application = application(self)
    }

    /// The latest counters (published about once a second, and at the end).
    public var statistics: EngineStatistics { published.withLock { $0 } }

    /// Stops accepting connections; open ones keep being served.
    package func stopAccepting() { control.bitwiseOr(Control.stopListening, ordering: .relaxed); wake() }

    /// Closes every connection gracefully, then stops the loop.
    package func closeAll() { control.bitwiseOr(Control.closeAll, ordering: .relaxed); wake() }

    /// Stops the loop at once (connections are left to the peer's timeouts).
    package func stop() { control.bitwiseOr(Control.stop, ordering: .relaxed); wake() }

    private func wake() { executor.execute {} }

    /// Waits until the loop has returned.
    package func waitUntilFinished() async { await finished.wait() }

    // MARK: The loop

    /// The thread body: owns `socket` until it returns.
    func run(socket: consuming XSKSocket) {
        isZeroCopy = socket.isZeroCopy
        let fd = socket.fd
        let device = XSKFrameDevice(socket: socket)
        if let wrapper = options.deviceWrapper {
            wrapper.run(self, on: device, pollFD: fd)
        } else {
            var device = device
            run(device: &device, pollFD: fd)
        }
    }

    /// The thread body over any device; `pollFD` is what to sleep on when idle (-1: none,
    /// the device's deadlines alone). Returns when the engine stops.
    package func run<Device: EngineDevice & ~Copyable>(device: inout Device, pollFD: Int32) {
        executor.adoptCurrentThread()
        var stack = NetStack(configuration: netConfiguration)
        application.start(&stack)
        started.signal()
        loop(device: &device, stack: &stack, fd: pollFD)
        for _ in 0..<200 where device.transmitOutstanding {
            device.drainTransmit()
            usleep(500)
        }
        device.drainTransmit()
        publish(device: device, stack: stack)
        executor.retire()
        finished.signal()
    }

    private func loop<Device: EngineDevice & ~Copyable>(device: inout Device, stack: inout NetStack, fd: Int32) {
        let application = self.application!
        var idle = 0
        var nextReport = NetInstant.zero
        var trim = TrimPolicy()
        var spin = SpinPolicy(maximum: options.spinLimit, learnsFromSleeps: false)
        let batch = max(1, options.receiveBatch ?? application.receiveBatch)
        while true {
            now = MonotonicClock.now()
            let flags = control.load(ordering: .relaxed)
            if flags != 0 && handleControl(flags, stack: &stack) { break }

            var delivery = MessageDelivery(application: application, now: now)
            let received = device.receive(at: now, maximum: batch) { frame in
                stack.receive(frame, at: now, delivery: &delivery)
            }
            if received > 0 && application.hasOutput { application.flush(&stack, at: now) }  // resets found while reading
            while let event = stack.nextEvent() { application.handle(event, stack: &stack, at: now) }
            if let next = timers.last, next.deadline <= now { fireTimers() }
            let ran = executor.runPending()
            if now >= application.nextDeadline { application.expire(&stack, at: now) }
            if application.hasOutput { application.flush(&stack, at: now) }
            stack.poll(at: now, transmitter: &device)
            device.flush(at: now)

            if now >= nextReport {
                nextReport = now + .seconds(1)
                publish(device: device, stack: stack)
                if trim.shouldRelease(connections: stack.connectionCount, bufferMemory: stack.bufferMemoryInUse) {
                    FreeMemory.releaseToSystem()
                }
            }
            guard received == 0 && ran == 0 && !application.hasOutput && !executor.hasWork else {
                idle = 0
                spin.worked(at: .nanoseconds(Int64(now.nanoseconds)))
                continue
            }
            idle += 1
            if options.busyPoll {
                device.wait(until: now + .microseconds(1), now: now)  // a busy-polling socket drives the driver here
                continue
            }
            guard idle > options.idleSpins else { continue }
            guard spin.shouldSleep(at: .nanoseconds(Int64(now.nanoseconds))) else {
                // Polling on: let whatever else is runnable on this core go first, the
                // kernel's receive processing above all (a threaded NAPI, or ksoftirqd),
                // which a spinning loop would otherwise hold off for a whole time slice.
                sched_yield()
                continue
            }
            var deadline = min(stack.nextDeadline, device.nextDeadline, nextReport, application.nextDeadline)
            if let next = timers.last { deadline = min(deadline, next.deadline) }
            // Frames the device could not take yet (flush kicked while it took them): retry soon.
            if device.transmitOutstanding { deadline = min(deadline, now + .microseconds(50)) }
            if deadline > now { wakeup.sleep(executor, orReadable: fd, nanoseconds: deadline.nanoseconds - now.nanoseconds) }
        }
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

    // MARK: Control

    /// True when the loop should end.
    private func handleControl(_ flags: UInt8, stack: inout NetStack) -> Bool {
        if flags & Control.stop != 0 { return true }
        if flags & Control.stopListening != 0 && !stoppedListening {
            stoppedListening = true
            application.stopAccepting(&stack)
        }
        guard flags & Control.closeAll != 0 else { return false }
        if closingSince == nil {
            closingSince = now
            application.closeAll(&stack, at: now)
        }
        // Done once every connection is gone or in TIME-WAIT (the peer has all our data and our FIN).
        // TIME-WAIT connections linger a little: our last ACK may be lost, and only we can repeat
        // it when the peer retransmits its FIN (a stack in a process has no kernel to do it later).
        var open: [TCPHandle] = []
        var waiting = false
        for handle in application.openHandles {
            guard let state = stack.state(of: handle) else { continue }
            if state == .timeWait { waiting = true } else if state != .closed { open.append(handle) }
        }
        if open.isEmpty {
            if !waiting { return true }
            allClosingSince = allClosingSince ?? now
            return now - allClosingSince! >= .milliseconds(1500)
        }
        allClosingSince = nil
        if now - closingSince! > .seconds(3) {
            logger.warning("closing: connections still open after 3 s; resetting them",
                           metadata: ["open": "\(open.count)", "first": "\(stack.sendingSummary(of: open[0]) ?? "?")"])
            for handle in open { try? stack.abort(handle, at: now) }
            while let event = stack.nextEvent() { application.handle(event, stack: &stack, at: now) }
            return true
        }
        return false
    }

    private func publish<Device: EngineDevice & ~Copyable>(device: borrowing Device, stack: borrowing NetStack) {
        counters.queue = queue
        counters.net = stack.statistics
        counters.frames = device.frameAccounting
        counters.connections = application.openHandles.count
        counters.transmitBlocked = device.transmitBlocked
        counters.kernel = device.kernelStatistics
        let snapshot = counters
        published.withLock { $0 = snapshot }
        options.report?(snapshot)
    }
}

/// When to hand freed heap back to the kernel: after the connections or buffer memory held
/// dropped well below their peak since the last release (a closed flood, drained transfers),
/// not on ordinary churn.
struct TrimPolicy {
    private var peakConnections = 0
    private var peakBufferMemory = 0

    mutating func shouldRelease(connections: Int, bufferMemory: Int) -> Bool {
        peakConnections = max(peakConnections, connections)
        peakBufferMemory = max(peakBufferMemory, bufferMemory)
        guard peakConnections - connections >= 1024 || peakBufferMemory - bufferMemory >= 16 << 20 else { return false }
        peakConnections = connections
        peakBufferMemory = bufferMemory
        return true
    }
}

/// Offers in-order TCP payload to the application while the frame is still in the UMEM.
private struct MessageDelivery: NetDelivery {
    let application: any QueueApplication
    let now: NetInstant

    mutating func deliver(_ bytes: UnsafeRawBufferPointer, on connection: TCPHandle) -> Int {
        application.deliver(bytes, on: connection, at: now)
    }
}
