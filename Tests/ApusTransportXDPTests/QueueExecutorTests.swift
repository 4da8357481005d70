import ApusXSK
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import ApusTransportXDP

/// The executor with a hand-run loop on a thread of its own, as the engine runs it.
struct QueueExecutorTests {
    final class Loop: @unchecked Sendable {
        let executor: QueueExecutor
        let wakeup: QueueWakeup
        let stop = Atomic<Bool>(false)
        let threadID = Atomic<UInt>(0)
        var thread: PinnedThread?

        init() throws {
            wakeup = try QueueWakeup()
            executor = QueueExecutor(waker: wakeup)
            thread = try PinnedThread(name: "test-executor", cpu: nil) { [self] in
                executor.adoptCurrentThread()
                threadID.store(UInt(pthread_self()), ordering: .relaxed)
                while !stop.load(ordering: .relaxed) {
                    if executor.runPending() == 0 {
                        // A missed wakeup would show as a 1 s stall per call.
                        wakeup.sleep(executor, orReadable: -1, nanoseconds: 1_000_000_000)
                    }
                }
            }
        }

        func shutdown() {
            stop.store(true, ordering: .relaxed)
            executor.execute {}
            thread?.join()
        }
    }

    @Test func tasksPreferringTheExecutorRunOnItsThreadAcrossSuspensions() async throws {
        let loop = try Loop()
        defer { loop.shutdown() }
        let start = ContinuousClock.now
        let ids = await withTaskGroup(of: [UInt].self) { group in
            for _ in 0..<8 {
                group.addTask(executorPreference: loop.executor) {
                    var seen: [UInt] = []
                    for _ in 0..<50 {
                        seen.append(UInt(pthread_self()))
                        await Task.yield()
                        try? await Task.sleep(for: .microseconds(10))  // resumed from the timer's thread: a remote enqueue
                    }
                    return seen
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(Set(ids) == [loop.threadID.load(ordering: .relaxed)])
        // 400 timer wakeups; lost eventfd wakeups would cost the 1 s poll timeout each.
        #expect(start.duration(to: .now) < .seconds(60))
    }

    @Test func executeRunsClosuresOnTheLoopThreadInOrder() async throws {
        let loop = try Loop()
        defer { loop.shutdown() }
        let order = Mutex<[Int]>([])
        let onLoop = Atomic<Int>(0)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            for value in 0..<100 {
                loop.executor.execute {
                    if loop.executor.isCurrent { onLoop.add(1, ordering: .relaxed) }
                    order.withLock { $0.append(value) }
                    if value == 99 { done.resume() }
                }
            }
        }
        #expect(order.withLock { $0 } == Array(0..<100))
        #expect(onLoop.load(ordering: .relaxed) == 100)
        #expect(!loop.executor.isCurrent)
    }
}
