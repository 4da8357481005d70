import ApusNet

/// Two stacks joined by a pair of `ImpairedChannel`s, run on a simulated
/// clock: the clock jumps straight to the next thing that happens (a frame
/// arriving, a timer), so seconds of TCP run in milliseconds.
public struct InMemoryLink {
    public enum Side: Sendable, Hashable { case a, b }

    public var a: NetStack
    public var b: NetStack
    public var aToB: ImpairedChannel
    public var bToA: ImpairedChannel
    public private(set) var now: NetInstant

    public init(a: NetStack, b: NetStack, impairment: LinkImpairment, seed: UInt64, start: NetInstant = .zero) {
        self.a = a
        self.b = b
        aToB = ImpairedChannel(impairment: impairment, seed: seed)
        bToA = ImpairedChannel(impairment: impairment, seed: seed ^ 0x5A5A_5A5A_5A5A_5A5A)
        now = start
    }

    /// Runs until `done` says so or the clock passes `limit`. `handle` sees every event of
    /// either stack (with that stack, to act on it). Returns whether `done` was reached.
    @discardableResult
    public mutating func run(until limit: NetInstant, done: (inout InMemoryLink) -> Bool,
                             handle: (Side, NetEvent, inout NetStack, NetInstant) -> Void) -> Bool {
        var collector = FrameCollector()
        var spinsAtThisInstant = 0
        while now <= limit {
            while let frame = aToB.receive(at: now) { frame.withUnsafeBytes { b.receive($0, at: now) } }
            while let frame = bToA.receive(at: now) { frame.withUnsafeBytes { a.receive($0, at: now) } }
            a.poll(at: now, transmitter: &collector)
            for frame in collector.take() { aToB.send(frame, at: now) }
            b.poll(at: now, transmitter: &collector)
            for frame in collector.take() { bToA.send(frame, at: now) }
            while let event = a.nextEvent() { handle(.a, event, &a, now) }
            while let event = b.nextEvent() { handle(.b, event, &b, now) }
            if done(&self) { return true }
            var next = min(a.nextDeadline, b.nextDeadline)
            if let delivery = aToB.nextDelivery { next = min(next, delivery) }
            if let delivery = bToA.nextDelivery { next = min(next, delivery) }
            if next == .distantFuture { return done(&self) }
            if next <= now {
                spinsAtThisInstant += 1
                // Something is due now; let it run, but never spin forever on one instant.
                if spinsAtThisInstant > 64 { now += .microseconds(1); spinsAtThisInstant = 0 }
            } else {
                now = next
                spinsAtThisInstant = 0
            }
        }
        return false
    }
}
