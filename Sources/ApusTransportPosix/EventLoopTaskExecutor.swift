import NIOCore

/// Runs Swift tasks on a NIO event loop's thread, so a handler that suspends
/// resumes on the loop that owns its connection: no thread hop for the
/// request, none for the reply (DESIGN.md decision 5, on kernel sockets).
/// Public for callers that start tasks on a loop before any pool exists
/// (`apus bench` over a `LoadBalancer`, whose pools come and go with the set).
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
