import ApusNet

/// One direction of an impaired link: frames in, frames out later, with
/// drops, duplicates and holds decided by a seeded generator and the clock
/// the caller passes. A device wrapper reuses it by feeding TX frames to
/// `send` and handing `receive`'s output to the stack as RX.
///
/// The latency is the same for every frame and the hold of a reordered
/// frame is too, so two FIFOs keep frames in release order without sorting.
public struct ImpairedChannel {
    public struct Counters: Sendable, Hashable {
        public var sent = 0
        public var delivered = 0
        public var dropped = 0
        public var duplicated = 0
        public var reordered = 0
    }

    public let impairment: LinkImpairment
    public private(set) var counters = Counters()
    private var random: SeededRandom
    private var onTime: FrameQueue
    private var heldBack: FrameQueue

    public init(impairment: LinkImpairment, seed: UInt64) {
        self.impairment = impairment
        random = SeededRandom(seed: seed)
        onTime = FrameQueue()
        heldBack = FrameQueue()
    }

    /// Takes a frame sent at `now`.
    public mutating func send(_ frame: [UInt8], at now: NetInstant) {
        counters.sent += 1
        if random.chance(impairment.lossRate) {
            counters.dropped += 1
            return
        }
        let copies = random.chance(impairment.duplicationRate) ? 2 : 1
        if copies == 2 { counters.duplicated += 1 }
        for _ in 0..<copies {
            if random.chance(impairment.reorderRate) {
                counters.reordered += 1
                heldBack.append(frame, at: now + impairment.delay + impairment.reorderDelay)
            } else {
                onTime.append(frame, at: now + impairment.delay)
            }
        }
    }

    /// The next frame due at `now`, if any.
    public mutating func receive(at now: NetInstant) -> [UInt8]? {
        let onTimeRelease = onTime.nextRelease ?? .distantFuture
        let heldRelease = heldBack.nextRelease ?? .distantFuture
        let frame: [UInt8]?
        if onTimeRelease <= heldRelease {
            frame = onTimeRelease <= now ? onTime.pop() : nil
        } else {
            frame = heldRelease <= now ? heldBack.pop() : nil
        }
        if frame != nil { counters.delivered += 1 }
        return frame
    }

    /// When the next frame comes out, or nil when the link is empty.
    public var nextDelivery: NetInstant? {
        switch (onTime.nextRelease, heldBack.nextRelease) {
        case (nil, nil): nil
        case (let a?, nil): a
        case (nil, let b?): b
        case (let a?, let b?): min(a, b)
        }
    }

    public var inFlight: Int { onTime.count + heldBack.count }
}

/// A FIFO of frames with release times that never decrease.
struct FrameQueue {
    private var frames: [(release: NetInstant, bytes: [UInt8])] = []
    private var start = 0

    var count: Int { frames.count - start }
    var nextRelease: NetInstant? { start < frames.count ? frames[start].release : nil }

    mutating func append(_ bytes: [UInt8], at release: NetInstant) {
        frames.append((release, bytes))
    }

    mutating func pop() -> [UInt8]? {
        guard start < frames.count else { return nil }
        let bytes = frames[start].bytes
        frames[start].bytes = []
        start += 1
        if start > 1024 && start * 2 > frames.count {
            frames.removeFirst(start)
            start = 0
        }
        return bytes
    }
}
