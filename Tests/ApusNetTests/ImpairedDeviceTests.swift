import ApusNet
import ApusTesting
import Testing

/// A device over arrays: `inbox` is what the link delivers, `sent` what went out.
struct ArrayDevice: FrameDevice {
    var inbox: [[UInt8]] = []
    var sent: [[UInt8]] = []
    var flushes = 0

    mutating func receive(at now: NetInstant, maximum: Int, _ body: (UnsafeRawBufferPointer) -> Void) -> Int {
        let batch = inbox.prefix(maximum)
        inbox.removeFirst(batch.count)
        for frame in batch { frame.withUnsafeBytes(body) }
        return batch.count
    }

    mutating func transmit(maximumLength: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) -> Bool {
        var frame = [UInt8](repeating: 0, count: maximumLength)
        let length = frame.withUnsafeMutableBytes(write)
        sent.append(Array(frame.prefix(length)))
        return true
    }

    mutating func flush(at now: NetInstant) { flushes += 1 }
    var nextDeadline: NetInstant { .distantFuture }
    mutating func wait(until deadline: NetInstant, now: NetInstant) {}
}

@Suite struct ImpairedDeviceTests {
    static func frame(_ n: UInt8) -> [UInt8] { [UInt8](repeating: n, count: 60) }

    @Test func anUnimpairedDevicePassesFramesThroughInOrder() {
        var device = ImpairedDevice(ArrayDevice(inbox: (0..<5).map(Self.frame)), receive: .none, transmit: .none, seed: 1)
        var received: [UInt8] = []
        #expect(device.receive(at: .zero, maximum: 64) { received.append($0[0]) } == 5)
        #expect(received == [0, 1, 2, 3, 4])
        for n in 0..<3 { _ = device.transmit(maximumLength: 60) { $0.copyBytes(from: Self.frame(UInt8(n))); return 60 } }
        #expect(device.base.sent.isEmpty)  // held until flush
        device.flush(at: .zero)
        #expect(device.base.sent == (0..<3).map(Self.frame))
    }

    @Test func lossAndDuplicationAreCountedPerDirection() {
        let lossy = LinkImpairment(lossRate: 1)
        var device = ImpairedDevice(ArrayDevice(inbox: (0..<10).map(Self.frame)), receive: lossy,
                                    transmit: LinkImpairment(duplicationRate: 1), seed: 3)
        #expect(device.receive(at: .zero, maximum: 64) { _ in } == 0)
        #expect(device.inbound.counters.dropped == 10)
        _ = device.transmit(maximumLength: 60) { $0.copyBytes(from: Self.frame(9)); return 60 }
        device.flush(at: .zero)
        #expect(device.base.sent == [Self.frame(9), Self.frame(9)] && device.outbound.counters.duplicated == 1)
    }

    @Test func delayedFramesWaitForTheirTime() {
        var device = ImpairedDevice(ArrayDevice(inbox: [Self.frame(1)]), receive: LinkImpairment(delay: .milliseconds(2)),
                                    transmit: .none, seed: 5)
        #expect(device.receive(at: .zero, maximum: 64) { _ in } == 0)
        #expect(device.nextDeadline == NetInstant(nanoseconds: 2_000_000))
        #expect(device.receive(at: .milliseconds(2), maximum: 64) { _ in } == 1)
    }

    @Test func theCLISpecParses() throws {
        let (impairment, seed) = try LinkImpairment.parse("loss=2%,reorder=5%,duplicate=1%,delay=1ms,seed=42")
        #expect(impairment.lossRate == 0.02 && impairment.reorderRate == 0.05 && impairment.duplicationRate == 0.01)
        #expect(impairment.delay == .milliseconds(1) && seed == 42)
        #expect(throws: ImpairmentSyntaxError.self) { _ = try LinkImpairment.parse("loss=200%") }
        #expect(throws: ImpairmentSyntaxError.self) { _ = try LinkImpairment.parse("delay=5") }
        #expect(throws: ImpairmentSyntaxError.self) { _ = try LinkImpairment.parse("jitter=1ms") }
    }
}
