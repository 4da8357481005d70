import Synchronization

/// A one-time event other threads can await.
package final class OneShot: Sendable {
    private let state = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    package init() {}

    package func signal() {
        let waiters = state.withLock { state in
            state.done = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    package var isDone: Bool { state.withLock { $0.done } }

    package func wait() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                if state.done { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}
