import ApusRPC
import ApusXSK

/// The executor of one queue's pinned thread: a `LoopExecutor` woken through
/// an eventfd that the engine sleeps on beside its AF_XDP socket.
public typealias QueueExecutor = LoopExecutor<QueueWakeup>

/// The eventfd that wakes a queue's thread sleeping in ppoll(2).
public final class QueueWakeup: LoopWaker {
    let event: WakeupEvent

    init() throws(XSKError) { event = try WakeupEvent() }

    public func wake() { event.signal() }
}

extension LoopExecutor where Waker == QueueWakeup {
    convenience init() throws(XSKError) {
        self.init(waker: try QueueWakeup())
    }

    /// Sleeps until `fd` (the queue's socket; -1: none) is readable, work arrives from another
    /// thread, or `nanoseconds` pass; returns at once when work arrived meanwhile.
    func sleep(orReadable fd: Int32, nanoseconds: UInt64) {
        guard beginSleep() else { return endSleep() }
        waker.event.wait(orReadable: fd, nanoseconds: nanoseconds)
        endSleep()
        waker.event.clear()
    }
}
