import NIOCore

/// Runs Swift tasks on a NIO event loop's thread, so a handler that suspends
/// resumes on the loop that owns its connection: no thread hop for the
/// request, none for the reply (DESIGN.md decision 5, on kernel sockets).
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
