import ApusNet
import ApusXSK

/// What the queue engine needs of its device beyond `FrameDevice`: whether
/// sends are still in flight (to come back and reap them), frame counts, and
/// a way to push out what is queued at the end.
public protocol EngineDevice: FrameDevice, ~Copyable {
    var transmitOutstanding: Bool { get }
    var frameAccounting: FrameAccounting { get }
    var transmitBlocked: Int { get }
    /// The kernel's drop counters for the socket underneath, if there is one.
    var kernelStatistics: XSKKernelStatistics? { get }
    /// Kicks the TX ring and reaps completions.
    mutating func drainTransmit()
}

extension EngineDevice where Self: ~Copyable {
    /// Devices without a socket underneath (test pipes) have none.
    public var kernelStatistics: XSKKernelStatistics? { nil }
}

extension XSKFrameDevice: EngineDevice {
    public var transmitOutstanding: Bool { socket.tx.outstanding > 0 }
    public var transmitBlocked: Int { statistics.transmitBlocked }
    public var kernelStatistics: XSKKernelStatistics? { socket.kernelStatistics }

    public mutating func drainTransmit() {
        flush(at: MonotonicClock.now())
        socket.reapCompletions(maximum: .max)
    }
}

/// Runs a queue's engine on a device wrapped around the queue's socket: how
/// tests and `--impair` put an impairing device on the data path without the
/// engine knowing about it. Call `engine.run(device:pollFD:)` with the wrapper.
public protocol EngineDeviceWrapper: Sendable {
    func run<Base: EngineDevice & ~Copyable>(_ engine: QueueEngine, on base: consuming Base, pollFD: Int32)
}
