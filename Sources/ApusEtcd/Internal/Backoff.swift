/// Retry delays after a failure: 200 ms doubling to 5 s, each jittered by
/// ±20% so a fleet that lost etcd together does not come back in lockstep.
struct Backoff {
    static let initial = Duration.milliseconds(200)
    static let defaultCap = Duration.seconds(5)

    let cap: Duration
    private var current = Backoff.initial

    init(cap: Duration = Backoff.defaultCap) { self.cap = max(cap, Self.initial) }

    /// The delay before the next attempt; the one after is twice as long, up to the cap.
    mutating func next() -> Duration {
        let delay = current * Double.random(in: 0.8...1.2)
        current = min(current * 2, cap)
        return delay
    }

    mutating func reset() { current = Self.initial }
}
