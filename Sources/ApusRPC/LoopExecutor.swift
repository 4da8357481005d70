import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How a loop's thread is woken from its sleep (an eventfd it polls, for both
/// the AF_XDP queue engine and the epoll server loop).
public protocol LoopWaker: AnyObject, Sendable {
    /// Wakes the loop (any thread).
    func wake()
}

/// The executor of one run-to-completion loop's thread (DESIGN decision 5):
/// tasks that prefer it run between the loop's I/O steps on that thread, so a
/// call never hops.
///
/// Jobs enqueued on the loop's own thread (a handler resumed by something the
/// loop did, a client call resumed by its reply) go on a plain array, no
/// atomics. Jobs and closures from other threads go through a mutex-guarded
/// inbox and wake the loop through its `Waker` when it sleeps; the loop looks
/// at that inbox through one relaxed flag per pass.
///
/// The loop calls `adoptCurrentThread()` once, `runPending()` every pass, and
/// brackets each blocking wait with `beginSleep()`/`endSleep()`.
///
/// Not generic over its waker: the methods the loops call every pass live in this module,
/// and in a generic class each of them looked up the metadata of its nested types at run
/// time (`Mutex<LoopExecutor<W>.Inbox>`), on every call. A wake-up is rare; one witness call
/// there costs nothing.
public final class LoopExecutor: TaskExecutor, @unchecked Sendable {
    /// The thread that runs the loop (0 until it starts).
    private let owner = Atomic<UInt>(0)
    // Owner thread only:
    private var jobs: [UnownedJob] = []
    private var running: [UnownedJob] = []
    private var work: [Work] = []
    private var runningWork: [Work] = []
    // Any thread:
    private let inbox = Mutex<Inbox>(Inbox())
    private let inboxNonEmpty = Atomic<Bool>(false)
    private let sleeping = Atomic<Bool>(false)
    /// Signalled when the loop sleeps and work arrives from another thread.
    package let waker: any LoopWaker

    /// A closure for the loop, and what to do instead if the loop ends before running it.
    private struct Work: Sendable {
        let run: @Sendable () -> Void
        let abandoned: (@Sendable () -> Void)?
    }

    private struct Inbox {
        var jobs: [UnownedJob] = []
        var work: [Work] = []
        /// The loop has ended: jobs go to the global executor.
        var retired = false
    }

    package init(waker: any LoopWaker) { self.waker = waker }

    /// True on the loop's thread.
    @inline(__always)
    public var isCurrent: Bool {
        let thread = owner.load(ordering: .relaxed)
        return thread != 0 && pthread_equal(pthread_self(), pthread_t(thread)) != 0
    }

    /// Called once by the loop's thread before it runs anything.
    package func adoptCurrentThread() { owner.store(UInt(pthread_self()), ordering: .relaxed) }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if isCurrent {
            jobs.append(job)
            return
        }
        let taken = inbox.withLock { inbox in
            if !inbox.retired { inbox.jobs.append(job) }
            return !inbox.retired
        }
        if taken { announce() } else { globalConcurrentExecutor.enqueue(ExecutorJob(job)) }
    }

    /// Runs `body` on the loop's thread: now if this is it (after the current loop step, never
    /// reentrantly), else at the loop's next pass.
    /// A closure that comes after the loop ended is dropped (see the other form).
    public func execute(_ body: @escaping @Sendable () -> Void) {
        execute(body, ifAbandoned: nil)
    }

    /// `execute`, for work someone waits on: when the loop has ended, or ends before running
    /// `body`, `abandoned` runs instead (on the calling thread or the retiring loop's), so a
    /// caller is answered rather than left waiting.
    @usableFromInline
    package func execute(_ body: @escaping @Sendable () -> Void, ifAbandoned abandoned: (@Sendable () -> Void)?) {
        let item = Work(run: body, abandoned: abandoned)
        if isCurrent {
            work.append(item)
            return
        }
        let taken = inbox.withLock { inbox in
            if !inbox.retired { inbox.work.append(item) }
            return !inbox.retired
        }
        if taken { announce() } else { abandoned?() }
    }

    private func announce() {
        // Pairs with `beginSleep()`: either the loop sees the flag before it sleeps, or we see
        // it sleeping and wake it (both sequentially consistent).
        inboxNonEmpty.store(true, ordering: .sequentiallyConsistent)
        if sleeping.load(ordering: .sequentiallyConsistent) { waker.wake() }
    }

    /// Whether anything is waiting to run.
    package var hasWork: Bool {
        !jobs.isEmpty || !work.isEmpty || inboxNonEmpty.load(ordering: .relaxed)
    }

    /// Runs what is queued now (and what that queues, up to `limit` jobs), on the loop's thread.
    /// Returns how many jobs and closures ran.
    @discardableResult
    package func runPending(limit: Int = 4096) -> Int {
        if inboxNonEmpty.load(ordering: .relaxed) {
            inboxNonEmpty.store(false, ordering: .relaxed)
            inbox.withLock { inbox in
                jobs.append(contentsOf: inbox.jobs)
                work.append(contentsOf: inbox.work)
                inbox.jobs.removeAll(keepingCapacity: true)
                inbox.work.removeAll(keepingCapacity: true)
            }
        }
        var ran = 0
        while ran < limit && (!jobs.isEmpty || !work.isEmpty) {
            if !work.isEmpty {
                // Swapped like `jobs`: a copy of `work` would make emptying it allocate anew.
                swap(&work, &runningWork)
                for item in runningWork { item.run() }
                ran += runningWork.count
                runningWork.removeAll(keepingCapacity: true)
            }
            if !jobs.isEmpty {
                swap(&jobs, &running)
                let executor = asUnownedTaskExecutor()
                for job in running { job.runSynchronously(on: executor) }
                ran += running.count
                running.removeAll(keepingCapacity: true)
            }
        }
        return ran
    }

    /// The loop has ended (called on its thread, last): tasks that still prefer this executor
    /// (a handler resuming after its connection closed) run on the global executor from now on,
    /// so none is stranded; closures for the loop are dropped, their `abandoned` alternatives
    /// run.
    package func retire() {
        owner.store(0, ordering: .relaxed)
        let (orphans, unrun) = inbox.withLock { inbox in
            inbox.retired = true
            defer { inbox.jobs.removeAll(); inbox.work.removeAll() }
            return (inbox.jobs, inbox.work)
        }
        let stranded = jobs + orphans
        let abandoned = (work + unrun).compactMap(\.abandoned)
        jobs.removeAll()
        work.removeAll()
        for job in stranded { globalConcurrentExecutor.enqueue(ExecutorJob(job)) }
        for answer in abandoned { answer() }
    }

    /// Before the loop blocks: false when work arrived meanwhile (do not block, but still call
    /// `endSleep()`); true when it may block until the waker fires.
    package func beginSleep() -> Bool {
        sleeping.store(true, ordering: .sequentiallyConsistent)
        return !(inboxNonEmpty.load(ordering: .sequentiallyConsistent) || !jobs.isEmpty || !work.isEmpty)
    }

    /// After the loop's blocking wait returned (or was skipped).
    package func endSleep() { sleeping.store(false, ordering: .relaxed) }
}

extension LoopExecutor {
    /// A call a loop-run client sends and completes, from a task on this loop's thread (one that
    /// prefers this executor): `start` runs at once and returns a handle to cancel the call by, or
    /// nil when it failed at once; cancelling the caller cancels the handle on the loop's thread.
    /// `decode` runs there too, while the reply's bytes are valid. Off the loop's thread, which for
    /// a task preferring this executor means the loop has ended, `method` fails as not sent.
    ///
    /// One allocation a call (the `LoopCall`): `start` does not escape, and the completion it
    /// hands on captures only the call, so it needs no context of its own.
    @inlinable
    package func call<Reply: Sendable, Handle: LoopCallHandle>(
        _ method: MethodDescriptor,
        start: (_ complete: @escaping (Result<IncomingMessage, RPCError>) -> Void) -> Handle?,
        decode: @escaping @Sendable (borrowing IncomingMessage) throws(RPCError) -> Reply
    ) async throws -> Reply {
        guard isCurrent else {
            throw RPCError(.unavailable, "\(method): the client was closed before the call started", requestWasNotSent: true)
        }
        let call = LoopCall<Reply, Handle>(decode: decode)
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Reply, any Error>) in
                call.continuation = continuation
                call.handle = start { result in call.complete(result) }
            }
        } onCancel: {
            execute { call.handle?.cancel() }
        }
    }
}
