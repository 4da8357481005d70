import CXDP
#if canImport(Glibc)
import Glibc
#endif

/// An eventfd other threads signal to wake a queue's thread sleeping in
/// `XSKSocket.wait(orWakeup:nanoseconds:)`. Owned: closed on deinit.
public struct WakeupEvent: ~Copyable, @unchecked Sendable {
    public let fd: Int32

    public init() throws(XSKError) {
        let fd = cxdp_eventfd()
        guard fd >= 0 else { throw XSKError("eventfd for waking a queue's thread", errno: errno) }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Wakes the sleeper (any thread).
    public func signal() {
        var one: UInt64 = 1
        _ = write(fd, &one, 8)
    }

    /// Clears pending signals (the sleeper, after waking).
    public func clear() {
        var count: UInt64 = 0
        _ = read(fd, &count, 8)
    }

    /// Sleeps until `fd` (a socket; -1: none) is readable, this event is signalled, or
    /// `nanoseconds` pass (ppoll(2): nanosecond timeouts).
    public func wait(orReadable fd: Int32, nanoseconds: UInt64) {
        var fds = (pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0), pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
        let count: UInt = fd >= 0 ? 2 : 1
        withUnsafeMutableBytes(of: &fds) { raw in
            _ = cxdp_poll_ns(raw.baseAddress!.assumingMemoryBound(to: pollfd.self), count, Int64(min(nanoseconds, 10_000_000_000)))
        }
    }
}

extension XDPProgramMaps {
    /// How an XDP program is attached to `interface`: "native", "skb", "hw", "multi", or nil when none is.
    public static func attachMode(of interface: String) -> String? {
        let index = if_nametoindex(interface)
        guard index != 0 else { return nil }
        switch cxdp_xdp_attach_mode(Int32(index)) {
        case Int32(XDP_ATTACHED_DRV): return "native"
        case Int32(XDP_ATTACHED_SKB): return "skb"
        case Int32(XDP_ATTACHED_HW): return "hw"
        case Int32(XDP_ATTACHED_MULTI): return "multi"
        default: return nil
        }
    }
}
