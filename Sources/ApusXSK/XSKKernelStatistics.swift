/// The kernel's counters for one AF_XDP socket (getsockopt XDP_STATISTICS): frames
/// it dropped or could not place, which the socket's user never sees otherwise.
public struct XSKKernelStatistics: Sendable, Hashable {
    /// Frames dropped for reasons other than a full RX ring or an empty fill ring.
    public var rxDropped: UInt64 = 0
    public var rxInvalidDescriptors: UInt64 = 0
    public var txInvalidDescriptors: UInt64 = 0
    /// Frames dropped because the RX ring was full (the application fell behind).
    public var rxRingFull: UInt64 = 0
    /// Times the fill ring had no frame for the kernel to receive into.
    public var fillRingEmpty: UInt64 = 0
    /// Times the TX ring was empty when the kernel looked for frames to send.
    public var txRingEmpty: UInt64 = 0

    public init() {}
}

extension XSKSocket {
    /// The kernel's counters for this socket; nil when it cannot give them.
    public var kernelStatistics: XSKKernelStatistics? {
        guard let raw = try? statistics() else { return nil }
        var stats = XSKKernelStatistics()
        stats.rxDropped = raw.rx_dropped
        stats.rxInvalidDescriptors = raw.rx_invalid_descs
        stats.txInvalidDescriptors = raw.tx_invalid_descs
        stats.rxRingFull = raw.rx_ring_full
        stats.fillRingEmpty = raw.rx_fill_ring_empty_descs
        stats.txRingEmpty = raw.tx_ring_empty_descs
        return stats
    }
}
