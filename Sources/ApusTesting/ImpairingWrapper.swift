import ApusNet
import ApusTransportXDP
import ApusXSK

/// Runs a queue engine on an `ImpairedDevice` around its socket: loss,
/// reordering and duplication in both directions, for tests and `--impair`.
public struct ImpairingWrapper: EngineDeviceWrapper {
    public var impairment: LinkImpairment
    public var seed: UInt64

    public init(_ impairment: LinkImpairment, seed: UInt64) {
        self.impairment = impairment
        self.seed = seed
    }

    public func run<Base: EngineDevice & ~Copyable>(_ engine: QueueEngine, on base: consuming Base, pollFD: Int32) {
        var device = ImpairedDevice(base, receive: impairment, transmit: impairment, seed: seed)
        engine.run(device: &device, pollFD: pollFD)
    }
}

extension ImpairedDevice: EngineDevice where Base: EngineDevice & ~Copyable {
    public var transmitOutstanding: Bool { base.transmitOutstanding }
    public var frameAccounting: FrameAccounting { base.frameAccounting }
    public var transmitBlocked: Int { base.transmitBlocked }
    public var kernelStatistics: XSKKernelStatistics? { base.kernelStatistics }
    public mutating func drainTransmit() {
        flush(at: MonotonicClock.now())
        base.drainTransmit()
    }
}
