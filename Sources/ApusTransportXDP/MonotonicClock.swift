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
