import ApusNet

/// When a queue's idle loop sleeps. After work it keeps polling the rings for a while (its
/// budget): on a loaded server the next packet usually comes within microseconds, while a
/// sleep costs a wake-up (poll(2), the scheduler, on a VM a cross-vCPU interrupt: tens of
/// microseconds) that goes straight into the next call's latency. The budget adapts to the
/// traffic: it doubles whenever polling found work before running out, and halves whenever it
/// ran out, so a loop whose packets come far apart soon sleeps at once, and one fed steadily
/// keeps its rings hot. An idle server spends at most one budget per burst of traffic.
/// Sans-IO: fed the loop's passes and their time.
package struct SpinPolicy: Sendable {
    /// The most a loop polls before sleeping; zero: it sleeps at once.
    package let maximum: NetDuration
    /// The least it polls while spinning is on (a budget never halves below this).
    package let minimum: NetDuration
    package private(set) var budget: NetDuration
    /// When the current run of empty passes began (nil: the last pass did work, or it slept).
    private var idleSince: NetInstant?

    package init(maximum: NetDuration, minimum: NetDuration = .microseconds(2)) {
        self.maximum = maximum
        self.minimum = min(minimum, maximum)
        budget = maximum / 2 < self.minimum ? self.minimum : maximum / 2
    }

    /// A pass did work (packets, tasks, output).
    @inline(__always)
    package mutating func worked() {
        guard idleSince != nil else { return }
        // Polling found the next work in time: afford a longer wait next time.
        idleSince = nil
        budget = min(maximum, budget * 2)
    }

    /// A pass found nothing to do at `now`: true when the loop should sleep now.
    package mutating func shouldSleep(at now: NetInstant) -> Bool {
        guard maximum > .zero else { return true }
        guard let since = idleSince else {
            idleSince = now
            return false
        }
        if now - since < budget { return false }
        // Polled the whole budget for nothing: sleep, and poll for less next time.
        idleSince = nil
        budget = max(minimum, budget / 2)
        return true
    }
}
