import ApusNet
#if canImport(Glibc)
import Glibc
#endif

/// The clock a device loop reads once per turn and passes to ApusNet
/// (which never reads one itself).
public enum MonotonicClock {
    @inlinable
    public static func now() -> NetInstant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return NetInstant(nanoseconds: UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec))
    }
}

extension NetInstant {
    /// This instant as the stream core's time (a `Duration` since the clock's origin).
    var streamTime: Duration { .nanoseconds(Int64(clamping: nanoseconds)) }

    init(streamTime: Duration) {
        let (seconds, attoseconds) = streamTime.components
        self.init(nanoseconds: UInt64(clamping: seconds) &* 1_000_000_000 &+ UInt64(clamping: attoseconds / 1_000_000_000))
    }
}

extension NetDuration {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(nanoseconds: seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000)
    }
}
