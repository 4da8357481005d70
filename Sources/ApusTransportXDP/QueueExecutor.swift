import ApusXSK
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The executor of one queue's pinned thread (DESIGN decision 5): tasks that
/// prefer it run between ring polls on that thread, so a call never hops.
///
/// Jobs enqueued on the queue's own thread (a handler resumed by something
/// the loop did, a client call resumed by its reply) go on a plain array, no
/// atomics. Jobs and closures from other threads go through a mutex-guarded
/// inbox and wake the loop with an eventfd when it sleeps; the loop looks at
/// that inbox through one relaxed flag per pass.
public final class QueueExecutor: TaskExecutor, @unchecked Sendable {
    /// The thread that runs the loop (0 until it starts).
    private let owner = Atomic<UInt>(0)
    // Owner thread only:
    private var jobs: [UnownedJob] = []
    private var running: [UnownedJob] = []
    private var work: [() -> Void] = []
    // Any thread:
    private let inbox = Mutex<Inbox>(Inbox())
    private let inboxNonEmpty = Atomic<Bool>(false)
    private let sleeping = Atomic<Bool>(false)
    /// Signalled when the loop sleeps and work arrives from another thread.
    private let wakeup: WakeupEvent

    private struct Inbox {
        var jobs: [UnownedJob] = []
        var work: [() -> Void] = []
    }

    init() throws(XSKError) {
        wakeup = try WakeupEvent()
    }

    /// True on the queue's thread.
    @inline(__always)
    public var isCurrent: Bool {
        let thread = owner.load(ordering: .relaxed)
        return thread != 0 && pthread_equal(pthread_self(), pthread_t(thread)) != 0
    }

    /// Called once by the loop's thread before it runs anything.
    func adoptCurrentThread() { owner.store(UInt(pthread_self()), ordering: .relaxed) }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if isCurrent {
            jobs.append(job)
            return
        }
        inbox.withLock { $0.jobs.append(job) }
        announce()
    }

    /// Runs `body` on the queue's thread: now if this is it (after the current
    /// loop step, never reentrantly), else at the loop's next pass.
    public func execute(_ body: @escaping @Sendable () -> Void) {
        if isCurrent {
            work.append(body)
            return
        }
        inbox.withLock { $0.work.append(body) }
        announce()
    }

    private func announce() {
        // Pairs with `sleep(orReadable:nanoseconds:)`: either the loop sees the flag before it
        // sleeps, or we see it sleeping and wake it (both sequentially consistent).
        inboxNonEmpty.store(true, ordering: .sequentiallyConsistent)
        if sleeping.load(ordering: .sequentiallyConsistent) { wakeup.signal() }
    }

    /// Whether anything is waiting to run.
    var hasWork: Bool {
        !jobs.isEmpty || !work.isEmpty || inboxNonEmpty.load(ordering: .relaxed)
    }

    /// Runs what is queued now (and what that queues, up to `limit` jobs), on the loop's thread.
    /// Returns how many jobs and closures ran.
    @discardableResult
    func runPending(limit: Int = 4096) -> Int {
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
                let batch = work
                work.removeAll(keepingCapacity: true)
                for body in batch { body() }
                ran += batch.count
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

    /// Sleeps until `fd` (the queue's socket; -1: none) is readable, work arrives from another
    /// thread, or `nanoseconds` pass; returns at once when work arrived meanwhile.
    func sleep(orReadable fd: Int32, nanoseconds: UInt64) {
        sleeping.store(true, ordering: .sequentiallyConsistent)
        if inboxNonEmpty.load(ordering: .sequentiallyConsistent) || !jobs.isEmpty || !work.isEmpty {
            sleeping.store(false, ordering: .relaxed)
            return
        }
        wakeup.wait(orReadable: fd, nanoseconds: nanoseconds)
        sleeping.store(false, ordering: .relaxed)
        wakeup.clear()
    }
}
