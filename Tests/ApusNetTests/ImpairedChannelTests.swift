import ApusNet
import ApusTesting
import Testing

@Suite struct ImpairedChannelTests {
    static func frames(_ count: Int) -> [[UInt8]] { (0..<count).map { [UInt8(truncatingIfNeeded: $0)] } }

    static func run(_ impairment: LinkImpairment, seed: UInt64, count: Int = 200) -> ([[UInt8]], ImpairedChannel) {
        var channel = ImpairedChannel(impairment: impairment, seed: seed)
        var out: [[UInt8]] = []
        var now = NetInstant.zero
        for frame in frames(count) {
            channel.send(frame, at: now)
            now += .microseconds(10)
            while let frame = channel.receive(at: now) { out.append(frame) }
        }
        now += .seconds(1)
        while let frame = channel.receive(at: now) { out.append(frame) }
        return (out, channel)
    }

    @Test func perfectLinkDeliversInOrder() {
        let (out, channel) = Self.run(.none, seed: 1)
        #expect(out == Self.frames(200))
        #expect(channel.counters.delivered == 200)
    }

    @Test func sameSeedSameRun() {
        let impairment = LinkImpairment(lossRate: 0.1, reorderRate: 0.1, duplicationRate: 0.1, reorderDelay: .microseconds(50))
        #expect(Self.run(impairment, seed: 7).0 == Self.run(impairment, seed: 7).0)
        #expect(Self.run(impairment, seed: 7).0 != Self.run(impairment, seed: 8).0)
    }

    @Test func lossIsCounted() {
        let (out, channel) = Self.run(LinkImpairment(lossRate: 0.25), seed: 3, count: 2000)
        #expect(channel.counters.dropped == 2000 - out.count)
        #expect((400...600).contains(channel.counters.dropped))
    }

    @Test func duplicatesAreDeliveredTwice() {
        let (out, channel) = Self.run(LinkImpairment(duplicationRate: 1), seed: 3, count: 10)
        #expect(out == Self.frames(10).flatMap { [$0, $0] })
        #expect(channel.counters.duplicated == 10)
    }

    @Test func reorderedFramesArriveLater() {
        let (out, channel) = Self.run(LinkImpairment(reorderRate: 0.2, reorderDelay: .microseconds(35)), seed: 5)
        #expect(channel.counters.reordered > 0)
        #expect(out.count == 200)
        #expect(out != Self.frames(200))
        #expect(out.sorted { $0[0] < $1[0] } == Self.frames(200))
    }

    @Test func delayHoldsFrames() {
        var channel = ImpairedChannel(impairment: LinkImpairment(delay: .milliseconds(5)), seed: 1)
        channel.send([1], at: .zero)
        #expect(channel.receive(at: .milliseconds(4)) == nil)
        #expect(channel.nextDelivery == .milliseconds(5))
        #expect(channel.receive(at: .milliseconds(5)) == [1])
    }
}
