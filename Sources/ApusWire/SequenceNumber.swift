/// A TCP sequence or acknowledgment number: a point on a 2^32 circle
/// (RFC 9293 §3.4).
///
/// Comparison is serial-number arithmetic (RFC 1982): `a < b` when `b` is
/// less than 2^31 ahead of `a` going round the circle, i.e.
/// `Int32(bitPattern: b - a) > 0`. That is the only meaningful order once
/// numbers wrap, and every window check in RFC 9293 assumes it. It is not a
/// total order (two numbers exactly 2^31 apart are neither less nor greater),
/// so never sort a collection that spans more than half the space; within a
/// TCP window (< 2^30 with scaling) it behaves like integers do, and
/// `lower..<upper` ranges give RFC 9293's `lower <= x < upper` window tests.
public struct SequenceNumber: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var rawValue: UInt32

    @inlinable
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    @inlinable
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Signed distance from `self` forward to `other`, in -2^31 ..< 2^31.
    /// Positive when `other` is after `self`.
    @inlinable
    public func distance(to other: SequenceNumber) -> Int {
        Int(Int32(bitPattern: other.rawValue &- rawValue))
    }

    /// The number `distance` octets later (earlier when negative), wrapping.
    @inlinable
    public func advanced(by distance: Int) -> SequenceNumber {
        SequenceNumber(rawValue &+ UInt32(truncatingIfNeeded: distance))
    }

    @inlinable
    public static func < (lhs: SequenceNumber, rhs: SequenceNumber) -> Bool {
        Int32(bitPattern: rhs.rawValue &- lhs.rawValue) > 0
    }

    @inlinable
    public static func + (lhs: SequenceNumber, rhs: Int) -> SequenceNumber { lhs.advanced(by: rhs) }

    @inlinable
    public static func + (lhs: SequenceNumber, rhs: UInt32) -> SequenceNumber {
        SequenceNumber(lhs.rawValue &+ rhs)
    }

    @inlinable
    public static func - (lhs: SequenceNumber, rhs: Int) -> SequenceNumber { lhs.advanced(by: -rhs) }

    @inlinable
    public static func - (lhs: SequenceNumber, rhs: UInt32) -> SequenceNumber {
        SequenceNumber(lhs.rawValue &- rhs)
    }

    /// `lhs.distance(to: rhs)` reversed: how far `lhs` is ahead of `rhs`, e.g. `SND.NXT - SND.UNA`.
    @inlinable
    public static func - (lhs: SequenceNumber, rhs: SequenceNumber) -> Int { rhs.distance(to: lhs) }

    @inlinable
    public static func += (lhs: inout SequenceNumber, rhs: Int) { lhs = lhs + rhs }

    @inlinable
    public static func += (lhs: inout SequenceNumber, rhs: UInt32) { lhs = lhs + rhs }

    @inlinable
    public static func -= (lhs: inout SequenceNumber, rhs: Int) { lhs = lhs - rhs }

    public var description: String { String(rawValue) }
}
