import ApusNet

/// A `FrameDevice` that impairs another: received frames pass through one
/// `ImpairedChannel` before the stack sees them, sent frames through another
/// before they reach the link. This is how the testbed gets loss, reordering
/// and duplication in both directions (the kernel has no netem here, and
/// AF_XDP transmit bypasses the qdisc anyway). Frames are copied: it is a
/// test instrument, not the data path.
public struct ImpairedDevice<Base: FrameDevice & ~Copyable>: FrameDevice, ~Copyable {
    public var base: Base
    public private(set) var inbound: ImpairedChannel
    public private(set) var outbound: ImpairedChannel
    /// Frames released by `outbound` that the base had no TX frame for yet.
    private var waiting: [[UInt8]] = []
    private var waitingStart = 0
    private var scratch: [UInt8]
    /// The last instant the loop told us: `transmit` has no clock of its own.
    private var now = NetInstant.zero

    /// `seed` drives both directions (the outbound one from a derived seed).
    public init(_ base: consuming Base, receive: LinkImpairment, transmit: LinkImpairment, seed: UInt64, maximumFrame: Int = 4096) {
        self.base = base
        inbound = ImpairedChannel(impairment: receive, seed: seed)
        outbound = ImpairedChannel(impairment: transmit, seed: seed ^ 0x9E37_79B9_7F4A_7C15)
        scratch = [UInt8](repeating: 0, count: maximumFrame)
    }

    public mutating func receive(at now: NetInstant, maximum: Int, _ body: (UnsafeRawBufferPointer) -> Void) -> Int {
        self.now = now
        _ = base.receive(at: now, maximum: maximum) { frame in inbound.send(Array(frame), at: now) }
        var count = 0
        while count < maximum, let frame = inbound.receive(at: now) {
            frame.withUnsafeBytes(body)
            count += 1
        }
        return count
    }

    public mutating func transmit(maximumLength: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) -> Bool {
        guard maximumLength <= scratch.count else { return false }
        let length = scratch.withUnsafeMutableBytes { write(UnsafeMutableRawBufferPointer(rebasing: $0[..<maximumLength])) }
        if length > 0 { outbound.send(Array(scratch[..<length]), at: now) }
        return true
    }

    public mutating func flush(at now: NetInstant) {
        self.now = now
        while let frame = outbound.receive(at: now) { waiting.append(frame) }
        while waitingStart < waiting.count {
            let frame = waiting[waitingStart]
            let sent = base.transmit(maximumLength: frame.count) { buffer in
                // The frame's bytes are used only inside withUnsafeBytes (no pointer escapes it).
                frame.withUnsafeBytes { buffer.copyMemory(from: $0) }
                return frame.count
            }
            guard sent else { break }
            waitingStart += 1
        }
        if waitingStart == waiting.count {
            waiting.removeAll(keepingCapacity: true)
            waitingStart = 0
        }
        base.flush(at: now)
    }

    public var nextDeadline: NetInstant {
        var deadline = base.nextDeadline
        if let next = inbound.nextDelivery { deadline = min(deadline, next) }
        if let next = outbound.nextDelivery { deadline = min(deadline, next) }
        if waitingStart < waiting.count { deadline = min(deadline, now) }
        return deadline
    }

    public mutating func wait(until deadline: NetInstant, now: NetInstant) {
        base.wait(until: min(deadline, nextDeadline), now: now)
    }
}

extension LinkImpairment {
    /// Parses the CLI's `loss=2%,reorder=5%,duplicate=1%,delay=1ms,seed=N` (any subset,
    /// any order); returns the impairment and the seed (default 1).
    public static func parse(_ text: String) throws(ImpairmentSyntaxError) -> (LinkImpairment, seed: UInt64) {
        var impairment = LinkImpairment()
        var seed: UInt64 = 1
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ImpairmentSyntaxError(item: String(item), reason: "expected key=value") }
            let (key, value) = (parts[0], parts[1])
            func rate() throws(ImpairmentSyntaxError) -> Double {
                let number = value.hasSuffix("%") ? Double(value.dropLast()).map { $0 / 100 } : Double(value)
                guard let number, number >= 0, number <= 1 else {
                    throw ImpairmentSyntaxError(item: String(item), reason: "a rate is 0...100% (e.g. 2%) or 0...1")
                }
                return number
            }
            func duration() throws(ImpairmentSyntaxError) -> NetDuration {
                let units: [(String, Int64)] = [("us", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000)]
                for (suffix, scale) in units where value.hasSuffix(suffix) {
                    if let number = Double(value.dropLast(suffix.count)), number >= 0, number < 3600 {
                        return NetDuration(nanoseconds: Int64(number * Double(scale)))
                    }
                }
                throw ImpairmentSyntaxError(item: String(item), reason: "a duration needs a unit: us, ms or s (e.g. 1ms)")
            }
            switch key {
            case "loss": impairment.lossRate = try rate()
            case "reorder": impairment.reorderRate = try rate()
            case "duplicate": impairment.duplicationRate = try rate()
            case "delay": impairment.delay = try duration()
            case "reorder-delay": impairment.reorderDelay = try duration()
            case "seed":
                guard let parsed = UInt64(value) else { throw ImpairmentSyntaxError(item: String(item), reason: "the seed is a whole number") }
                seed = parsed
            default:
                throw ImpairmentSyntaxError(item: String(item), reason: "unknown key (loss, reorder, duplicate, delay, reorder-delay, seed)")
            }
        }
        return (impairment, seed)
    }
}

public struct ImpairmentSyntaxError: Error, Sendable, CustomStringConvertible {
    public var item: String
    public var reason: String
    public var description: String { "impairment '\(item)': \(reason)" }
}
