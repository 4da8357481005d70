/// The buffer bytes all connections of one stack have allocated, against the configured
/// budget (`NetStackConfiguration.maximumBufferMemory`).
///
/// Buffers are allocated as data arrives or is queued and freed when drained, so this counts
/// what is really held, not what the windows promise: a thousand idle connections cost next
/// to nothing, and a flood of data is refused (dropped unacknowledged, or a short write) once
/// the budget is spent instead of growing the process without bound.
struct BufferMemory {
    let limit: Int
    private(set) var inUse = 0

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes `bytes` from the budget; false (and nothing taken) when they do not fit.
    mutating func take(_ bytes: Int) -> Bool {
        guard inUse + bytes <= limit else { return false }
        inUse += bytes
        return true
    }

    mutating func give(_ bytes: Int) {
        inUse -= bytes
        assert(inUse >= 0, "buffer memory given back twice")
    }
}
