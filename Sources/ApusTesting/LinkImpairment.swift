import ApusNet

/// What an impaired link does to the frames it carries. Rates are
/// per-frame probabilities, decided independently.
public struct LinkImpairment: Sendable, Hashable {
    /// Frames dropped.
    public var lossRate: Double
    /// Frames held back by `reorderDelay`, so later frames overtake them.
    public var reorderRate: Double
    /// Frames delivered twice.
    public var duplicationRate: Double
    /// One-way latency of every frame.
    public var delay: NetDuration
    /// Extra latency of a reordered frame.
    public var reorderDelay: NetDuration

    public init(lossRate: Double = 0, reorderRate: Double = 0, duplicationRate: Double = 0,
                delay: NetDuration = .zero, reorderDelay: NetDuration = .milliseconds(1)) {
        self.lossRate = lossRate
        self.reorderRate = reorderRate
        self.duplicationRate = duplicationRate
        self.delay = delay
        self.reorderDelay = reorderDelay
    }

    /// A perfect link with no latency.
    public static let none = LinkImpairment()
}
