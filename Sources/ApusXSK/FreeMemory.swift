import CXDP

/// Returning freed heap memory to the kernel.
///
/// glibc keeps what a thread frees in its arena for reuse, so after a burst (ten thousand
/// connections closed, a flood's buffers drained) the process would keep its high-water mark
/// for good. The queue engine calls this after large drops, at most once a second.
public enum FreeMemory {
    /// `malloc_trim(0)`: gives free pages of every arena back (madvise), keeping live data.
    /// Returns whether anything was released.
    @discardableResult
    public static func releaseToSystem() -> Bool {
        cxdp_release_free_memory() != 0
    }
}
