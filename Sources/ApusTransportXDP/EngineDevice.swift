import ApusNet
import ApusTesting
import ApusXSK

/// What the queue engine needs of its device beyond `FrameDevice`: whether
/// sends are still in flight (to come back and reap them), frame counts, and
/// a way to push out what is queued at the end.
protocol EngineDevice: FrameDevice, ~Copyable {
    var transmitOutstanding: Bool { get }
    var frameAccounting: FrameAccounting { get }
    var transmitBlocked: Int { get }
    /// Kicks the TX ring and reaps completions.
    mutating func drainTransmit()
}

extension XSKFrameDevice: EngineDevice {
    var transmitOutstanding: Bool { socket.tx.outstanding > 0 }
    var transmitBlocked: Int { statistics.transmitBlocked }

    mutating func drainTransmit() {
        flush(at: MonotonicClock.now())
        socket.reapCompletions(maximum: .max)
    }
}

extension ImpairedDevice: EngineDevice where Base: EngineDevice & ~Copyable {
    var transmitOutstanding: Bool { base.transmitOutstanding }
    var frameAccounting: FrameAccounting { base.frameAccounting }
    var transmitBlocked: Int { base.transmitBlocked }
    mutating func drainTransmit() {
        flush(at: MonotonicClock.now())
        base.drainTransmit()
    }
}
