/// When a loop with nothing to do sleeps: an AF_XDP queue's engine, an epoll loop. After work
/// it keeps polling (the rings, or `epoll_wait` with no timeout) for a while, its budget: on a
/// loaded server the next packet usually comes within microseconds, while a sleep can cost a
/// wake-up (poll(2) or epoll_wait(2), the scheduler, on a VM a cross-vCPU interrupt: tens of
/// microseconds, and CPU time of its own) that goes straight into the next call's latency.
///
/// The budget adapts to the traffic: work found while polling doubles it; a spell that ended in
/// a sleep halves it, unless the policy `learnsFromSleeps` and the work came within `maximum`
/// of the spell's start: polling that long would have found it, so the budget rises to twice
/// that gap at once. Learning from sleeps suits a loop whose wake-up is what a sleep costs (an
/// epoll loop: the peer's send runs the receive path on the peer's core and must wake this
/// one across cores); a loop woken on its own core by receive work that has to run anyway (an
/// AF_XDP queue: its NAPI thread or interrupt) loses little to sleeping, and polls only while
/// polling pays. Either way a loop whose work comes far apart soon sleeps at once, and an
/// idle one spends at most one budget per burst of traffic. Sans-IO: fed the loop's passes and
/// their time (from any origin).
package struct SpinPolicy: Sendable {
    /// The most a loop polls before sleeping; zero: it sleeps at once.
    package let maximum: Duration
    /// The least it polls while spinning is on (a budget never halves below this).
    package let minimum: Duration
    package private(set) var budget: Duration
    /// When the current idle spell began (nil: the last pass did work).
    private var idleSince: Duration?
    /// The loop slept in the current idle spell.
    private var slept = false
    /// A sleep's length tells whether polling would have paid (see the type's doc).
    package let learnsFromSleeps: Bool

    package init(maximum: Duration, minimum: Duration = .microseconds(2), learnsFromSleeps: Bool = true) {
        self.maximum = maximum
        self.minimum = min(minimum, maximum)
        self.learnsFromSleeps = learnsFromSleeps
        budget = maximum / 2 < self.minimum ? self.minimum : maximum / 2
    }

    /// A pass did work (packets, tasks, output) at `now`.
    @inline(__always)
    package mutating func worked(at now: Duration) {
        guard let since = idleSince else { return }
        idleSince = nil
        defer { slept = false }
        let gap = now - since
        if !slept || (learnsFromSleeps && gap <= maximum) {
            budget = min(maximum, max(budget * 2, gap * 2))  // polling that long found it, or would have
        } else {
            budget = max(minimum, budget / 2)
        }
    }

    /// A pass found nothing to do at `now`: true when the loop should sleep now.
    package mutating func shouldSleep(at now: Duration) -> Bool {
        guard maximum > .zero else { return true }
        guard let since = idleSince else {
            idleSince = now
            return false
        }
        if !slept && now - since < budget { return false }
        slept = true  // polled the whole budget for nothing
        return true
    }
}
