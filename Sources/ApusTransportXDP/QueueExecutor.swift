import ApusRPC
import ApusXSK

/// The executor of one queue's pinned thread: a `LoopExecutor` woken through
/// an eventfd that the engine sleeps on beside its AF_XDP socket.
public typealias QueueExecutor = LoopExecutor

/// The eventfd that wakes a queue's thread sleeping in ppoll(2).
public final class QueueWakeup: LoopWaker {
    let event: WakeupEvent

    init() throws(XSKError) { event = try WakeupEvent() }

    public func wake() { event.signal() }
}

extension QueueWakeup {
    /// Sleeps the loop of `executor` (woken through this) until `fd` (the queue's socket; -1:
    /// none) is readable, work arrives from another thread, or `nanoseconds` pass; returns at
    /// once when work arrived meanwhile.
    func sleep(_ executor: QueueExecutor, orReadable fd: Int32, nanoseconds: UInt64) {
        guard executor.beginSleep() else { return executor.endSleep() }
        event.wait(orReadable: fd, nanoseconds: nanoseconds)
        executor.endSleep()
        event.clear()
    }
}
