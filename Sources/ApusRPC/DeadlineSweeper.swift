import ApusThrift
import Synchronization

/// A call that must be answered DEADLINE_EXCEEDED if its handler has not finished by its
/// deadline.
package protocol ExpiringCall: AnyObject, Sendable {
    func expire()
}

/// Enforces the deadlines callers send (THeader's `client_timeout`, TTHeader's RPC timeout)
/// without a task or a timer per call: a call with a deadline is an entry in one table, and
/// one sweeper task, running only while the table is not empty, expires what is overdue every
/// `tick`. Adding and removing an entry is a lock and a dictionary update whose storage is
/// reused; racing the handler against a sleeping child task (`TimeoutMiddleware`) instead
/// costs two child tasks and executor hops per call, several times the call itself.
package final class DeadlineSweeper: Sendable {
    private struct Entry {
        let deadline: ContinuousClock.Instant
        let call: any ExpiringCall
    }
    private struct State {
        var next: UInt64 = 0
        var entries: [UInt64: Entry] = [:]
        var sweeping = false
    }
    private let state = Mutex(State())
    /// How late past its deadline a call may be answered, at most (plus scheduling).
    package let tick: Duration

    package init(tick: Duration = .milliseconds(5)) { self.tick = tick }

    /// Watches `call` until `remove` is called with the returned id.
    package func add(_ call: any ExpiringCall, deadline: ContinuousClock.Instant) -> UInt64 {
        let (id, start) = state.withLock { state in
            state.next &+= 1
            state.entries[state.next] = Entry(deadline: deadline, call: call)
            defer { state.sweeping = true }
            return (state.next, !state.sweeping)
        }
        if start { Task.detached { await self.sweep() } }
        return id
    }

    package func remove(_ id: UInt64) {
        state.withLock { _ = $0.entries.removeValue(forKey: id) }
    }

    /// Calls watched now (for tests).
    package var count: Int { state.withLock { $0.entries.count } }

    private func sweep() async {
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let (due, more): ([any ExpiringCall], Bool) = state.withLock { state in
                var due: [any ExpiringCall] = []
                for (id, entry) in state.entries where entry.deadline <= now {
                    due.append(entry.call)
                    state.entries[id] = nil
                }
                if state.entries.isEmpty { state.sweeping = false }
                return (due, state.sweeping)
            }
            for call in due { call.expire() }
            if !more { return }
        }
    }
}

/// One dispatched call with a deadline: whichever of its handler's reply and its expiry comes
/// first is sent; expiry also cancels the call's task.
final class DeadlineCall: ExpiringCall {
    private struct State {
        var answered = false
        var expired = false
        var task: Task<Void, Never>?
    }
    private let state = Mutex(State())
    let reply: CallReply
    let sequenceID: Int32
    let method: MethodDescriptor
    let expectsReply: Bool
    /// Set when the deadline is the server's call timeout rather than the caller's.
    let serverTimeout: Duration?

    init(reply: CallReply, method: MethodDescriptor, sequenceID: Int32, expectsReply: Bool, serverTimeout: Duration? = nil) {
        self.reply = reply
        self.method = method
        self.sequenceID = sequenceID
        self.expectsReply = expectsReply
        self.serverTimeout = serverTimeout
    }

    /// True for the one caller that may answer the call (the handler's reply, or expiry).
    func claim() -> Bool {
        state.withLock { state in
            defer { state.answered = true }
            return !state.answered
        }
    }

    /// The call's task, so expiry can cancel it (at once when the deadline has passed already).
    func attach(_ task: Task<Void, Never>) {
        let cancelNow = state.withLock { state in
            if !state.expired { state.task = task }
            return state.expired
        }
        if cancelNow { task.cancel() }
    }

    /// The task finished: forget it (it holds the call's closure, this holds the task).
    func finished() { state.withLock { $0.task = nil } }

    var isExpired: Bool { state.withLock { $0.expired } }

    func expire() {
        let (answer, task) = state.withLock { state in
            state.expired = true
            defer { state.answered = true; state.task = nil }
            return (!state.answered, state.task)
        }
        task?.cancel()
        guard answer, expectsReply, !reply.connection.isClosed else { return }
        let why = serverTimeout.map { "\(method) did not finish within the server's call timeout (\($0))" }
            ?? "\(method) did not finish by the caller's deadline"
        reply.send(.exception(RPCError(.deadlineExceeded, why), name: method.method, sequenceID: sequenceID))
    }
}
