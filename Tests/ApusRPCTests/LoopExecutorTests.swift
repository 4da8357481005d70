import Foundation
import Synchronization
import Testing
@testable import ApusRPC

/// A call made through a loop's executor is answered even when the loop ends first: a client
/// closed while a call was on its way must fail that call, not leave its caller waiting forever,
/// and never start it off the loop's thread.
@Suite struct LoopExecutorTests {
    final class Waker: LoopWaker {
        func wake() {}
    }

    final class Flag: Sendable {
        let value = Atomic<Bool>(false)
        var isSet: Bool { value.load(ordering: .relaxed) }
        func set() { value.store(true, ordering: .relaxed) }
    }

    /// A loop thread that adopts the executor, waits for `release`, runs nothing, and retires.
    final class StoppedLoop: @unchecked Sendable {
        let executor = LoopExecutor(waker: Waker())
        let adopted = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let retired = DispatchSemaphore(value: 0)

        init() {
            Thread { [self] in
                executor.adoptCurrentThread()
                adopted.signal()
                release.wait()
                executor.retire()
                retired.signal()
            }.start()
            adopted.wait()
        }
    }

    struct NoHandle: LoopCallHandle {
        func cancel() {}
    }

    static func call(_ executor: LoopExecutor, started: Flag? = nil) async throws -> Int {
        try await executor.call(MethodDescriptor(service: "Test", method: "call"), start: {
            (_: @escaping (Result<IncomingMessage, RPCError>) -> Void) -> NoHandle? in
            started?.set()
            return NoHandle()
        }, decode: { _ throws(RPCError) in 0 })
    }

    static func expectEnded(_ result: Result<Int, any Error>) {
        guard case .failure(let error as RPCError) = result else {
            Issue.record("expected RPCError.unavailable, got \(result)")
            return
        }
        #expect(error.code == .unavailable && error.requestWasNotSent)
    }

    @Test func aCallQueuedForALoopThatEndsWithoutRunningItFailsAsNotSent() async throws {
        let loop = StoppedLoop()
        let started = Flag()
        // The caller prefers the loop, which runs nothing: its first job waits in the loop's inbox.
        let caller = Task(executorPreference: loop.executor) { () async -> Result<Int, any Error> in
            do { return .success(try await Self.call(loop.executor, started: started)) } catch { return .failure(error) }
        }
        for _ in 0..<500 where !loop.executor.hasWork { try await Task.sleep(for: .milliseconds(2)) }
        #expect(loop.executor.hasWork)
        loop.release.signal()  // the loop ends without a pass; its stranded jobs run elsewhere
        Self.expectEnded(await caller.value)
        #expect(!started.isSet, "the call started off the loop's thread")
    }

    @Test func aCallForALoopThatHasEndedFailsAtOnce() async throws {
        let loop = StoppedLoop()
        loop.release.signal()
        loop.retired.wait()
        let started = Flag()
        let caller = Task(executorPreference: loop.executor) { () async -> Result<Int, any Error> in
            do { return .success(try await Self.call(loop.executor, started: started)) } catch { return .failure(error) }
        }
        Self.expectEnded(await caller.value)
        #expect(!started.isSet)
        // Plain closures are still dropped, not run on a thread that is no longer the loop's.
        let ran = Flag()
        loop.executor.execute { ran.set() }
        #expect(!ran.isSet)
    }
}
