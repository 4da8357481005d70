/// Where a socket's UMEM frames are (DESIGN decision 4: every frame is in
/// exactly one place). After a clean stop everything but `free` and `fill`
/// is zero; a leak shows up as frames held by the application.
public struct FrameAccounting: Sendable, Hashable, CustomStringConvertible {
    public var total: UInt32
    public var free: UInt32
    /// Given to the kernel for receiving.
    public var fill: UInt32
    /// Received and not yet released by the application.
    public var rx: UInt32
    /// Queued for sending, not yet sent.
    public var tx: UInt32
    /// Sent, not yet reaped back into the pool.
    public var completion: UInt32

    public init(total: UInt32, free: UInt32 = 0, fill: UInt32 = 0, rx: UInt32 = 0, tx: UInt32 = 0, completion: UInt32 = 0) {
        self.total = total
        self.free = free
        self.fill = fill
        self.rx = rx
        self.tx = tx
        self.completion = completion
    }

    /// Frames in none of the other places: the application has them.
    public var application: UInt32 {
        let elsewhere = Int(free) + Int(fill) + Int(rx) + Int(tx) + Int(completion)
        return UInt32(clamping: Int(total) - elsewhere)
    }

    public var description: String {
        "frames_total=\(total) frames_free=\(free) frames_in_fill=\(fill) frames_in_rx=\(rx) frames_in_tx=\(tx)"
            + " frames_in_completion=\(completion) frames_in_app=\(application)"
    }
}

extension XSKSocket {
    /// A snapshot of where the frames are; exact when the kernel is idle.
    public var frameAccounting: FrameAccounting {
        FrameAccounting(
            total: umem.frameCount, free: UInt32(umem.freeCount), fill: fill.outstanding, rx: rx.pending,
            tx: tx.outstanding, completion: completion.pending)
    }
}
