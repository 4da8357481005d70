/// A point on the caller's monotonic clock, in nanoseconds.
///
/// The stack never reads a clock (it is sans-IO): every entry point takes the
/// current instant, so tests can run an hour of TCP timers in a millisecond and
/// a device loop can pass the time it already read for its own batching.
public struct NetInstant: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var nanoseconds: UInt64

    @inlinable public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// The start of the caller's clock.
    public static let zero = NetInstant(nanoseconds: 0)
    /// Later than every real instant: "no deadline".
    public static let distantFuture = NetInstant(nanoseconds: .max)

    @inlinable public static func milliseconds(_ value: UInt64) -> NetInstant { NetInstant(nanoseconds: value * 1_000_000) }
    @inlinable public static func seconds(_ value: UInt64) -> NetInstant { NetInstant(nanoseconds: value * 1_000_000_000) }

    @inlinable public static func < (lhs: NetInstant, rhs: NetInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// Saturates at `distantFuture` so `now + huge` never traps.
    @inlinable
    public static func + (lhs: NetInstant, rhs: NetDuration) -> NetInstant {
        if rhs.nanoseconds >= 0 {
            let (sum, overflow) = lhs.nanoseconds.addingReportingOverflow(UInt64(rhs.nanoseconds))
            return NetInstant(nanoseconds: overflow ? .max : sum)
        }
        let magnitude = rhs.nanoseconds.magnitude
        return NetInstant(nanoseconds: lhs.nanoseconds > magnitude ? lhs.nanoseconds - magnitude : 0)
    }

    @inlinable public static func += (lhs: inout NetInstant, rhs: NetDuration) { lhs = lhs + rhs }

    /// How long from `rhs` to `lhs` (negative when `lhs` is earlier).
    @inlinable
    public static func - (lhs: NetInstant, rhs: NetInstant) -> NetDuration {
        NetDuration(nanoseconds: Int64(truncatingIfNeeded: lhs.nanoseconds &- rhs.nanoseconds))
    }

    /// Milliseconds on this clock, truncated to 32 bits: the TCP timestamp clock (RFC 7323 §5.4
    /// asks for 1 ms to 1 s per tick).
    @inlinable public var timestampClock: UInt32 { UInt32(truncatingIfNeeded: nanoseconds / 1_000_000) }

    public var description: String { "\(Double(nanoseconds) / 1e6)ms" }
}

/// A signed span of time in nanoseconds.
public struct NetDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var nanoseconds: Int64

    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static let zero = NetDuration(nanoseconds: 0)

    @inlinable public static func microseconds(_ value: Int64) -> NetDuration { NetDuration(nanoseconds: value * 1_000) }
    @inlinable public static func milliseconds(_ value: Int64) -> NetDuration { NetDuration(nanoseconds: value * 1_000_000) }
    @inlinable public static func seconds(_ value: Int64) -> NetDuration { NetDuration(nanoseconds: value * 1_000_000_000) }

    @inlinable public static func < (lhs: NetDuration, rhs: NetDuration) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
    @inlinable public static func + (lhs: NetDuration, rhs: NetDuration) -> NetDuration {
        NetDuration(nanoseconds: lhs.nanoseconds &+ rhs.nanoseconds)
    }
    @inlinable public static func - (lhs: NetDuration, rhs: NetDuration) -> NetDuration {
        NetDuration(nanoseconds: lhs.nanoseconds &- rhs.nanoseconds)
    }
    @inlinable public static func * (lhs: NetDuration, rhs: Int64) -> NetDuration {
        let (product, overflow) = lhs.nanoseconds.multipliedReportingOverflow(by: rhs)
        return NetDuration(nanoseconds: overflow ? .max : product)
    }
    @inlinable public static func / (lhs: NetDuration, rhs: Int64) -> NetDuration {
        NetDuration(nanoseconds: lhs.nanoseconds / rhs)
    }

    public var description: String { "\(Double(nanoseconds) / 1e6)ms" }
}
