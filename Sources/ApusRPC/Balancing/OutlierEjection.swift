/// When a balancing client stops sending to an endpoint that keeps failing,
/// and how it tries it again (Envoy's consecutive-failure outlier detection).
///
/// `consecutiveFailures` failures in a row (connection refused or lost,
/// timeouts: `.unavailable` and `.deadlineExceeded`) eject the endpoint for
/// `baseEjection`, doubled on every ejection in a row up to `maxEjection`.
/// When that time is up one call is let through as a probe: success brings
/// the endpoint back, failure ejects it again for longer.
public struct OutlierEjection: Sendable, Hashable {
    public var consecutiveFailures: Int
    public var baseEjection: Duration
    public var maxEjection: Duration

    public init(consecutiveFailures: Int = 5, baseEjection: Duration = .seconds(1), maxEjection: Duration = .seconds(30)) {
        precondition(consecutiveFailures >= 1, "an endpoint is ejected after at least one failure")
        self.consecutiveFailures = consecutiveFailures
        self.baseEjection = baseEjection
        self.maxEjection = maxEjection
    }

    /// How long the `ejections`-th ejection in a row lasts.
    package func ejectionTime(_ ejections: Int) -> Duration {
        var time = baseEjection
        for _ in 1..<max(1, ejections) where time < maxEjection { time = time * 2 }
        return min(time, maxEjection)
    }
}

/// How a balancing client picks an endpoint for each call.
public enum LoadBalancingPolicy: String, Sendable, Hashable, CaseIterable {
    /// Smooth weighted round robin: each endpoint in turn, as often as its weight says.
    case roundRobin = "round-robin"
    /// Two endpoints at random, the one with fewer calls in flight per unit of weight: load
    /// follows each server's speed, without every client herding to the same idle one.
    case powerOfTwoChoices = "p2c"
    /// The endpoint that owns the call's `CallOptions.balancingKey` on a consistent-hash ring
    /// (the next one on the ring while that one is ejected); calls without a key use p2c.
    case consistentHash = "hash"
}
