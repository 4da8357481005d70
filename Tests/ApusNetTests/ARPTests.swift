@testable import ApusNet
import ApusTesting
import ApusWire
import Testing

@Suite struct ARPTests {
    var stack = NetStack(configuration: Host.configuration())
    let now = NetInstant.seconds(1)

    /// Polls and returns the raw frames sent.
    mutating func sentFrames(at now: NetInstant, capacity: Int? = nil) -> [[UInt8]] {
        var collector = FrameCollector(capacity: capacity)
        stack.poll(at: now, transmitter: &collector)
        return collector.frames
    }

    @Test mutating func requestForOwnedAddressIsAnswered() {
        stack.receive(Fixtures.arpRequestFrame, at: now)
        #expect(sentFrames(at: now) == [Fixtures.arpReplyFrame])
        #expect(stack.statistics.arpRequestsAnswered == 1)
    }

    /// The stack's link is untagged: a request on VLAN 5 is not for it, and an untagged answer
    /// would land on the wrong segment.
    @Test mutating func taggedFrameIsDropped() {
        let tagged = Array(Fixtures.arpRequestFrame[..<12]) + [0x81, 0x00, 0x00, 0x05] + Array(Fixtures.arpRequestFrame[12...])
        stack.receive(tagged, at: now)
        #expect(sentFrames(at: now).isEmpty)
        #expect(stack.statistics.droppedVLAN == 1)
        #expect(stack.arpCache.lookup(Host.remoteIP, at: now) == nil)
    }

    /// RFC 5227 §2.4 (b): a host claiming our address gets one announcement back, not one per
    /// packet, and the claim is counted.
    @Test mutating func addressConflictIsDefendedOncePerInterval() {
        let intruder = MACAddress(0x02, 0, 0, 0, 0, 0x66)
        let claim = Frame.arp(.request, senderMAC: intruder, senderIP: Host.localIP, targetIP: Host.localIP)
        stack.receive(claim, at: now)
        stack.receive(claim, at: now + .seconds(1))
        let sent = sentFrames(at: now + .seconds(1))
        #expect(sent.count == 1)
        let announcement = sent.first.flatMap { frame in
            frame.withUnsafeBytes { try? ARPRepr(parsing: ARPPacket(EthernetFrame($0).payload)) }
        }
        #expect(announcement == ARPRepr(operation: .request, senderHardwareAddress: Host.localMAC,
                                        senderProtocolAddress: Host.localIP, targetHardwareAddress: .zero,
                                        targetProtocolAddress: Host.localIP))
        #expect(sent.first.map { Array($0[0..<6]) } == [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        #expect(stack.statistics.arpAddressConflicts == 2)
        stack.receive(claim, at: now + .seconds(11))
        #expect(sentFrames(at: now + .seconds(11)).count == 1, "defended again after 10 s")
    }

    @Test mutating func requestForOtherAddressIsIgnored() {
        stack.receive(Frame.arp(.request, targetIP: Host.otherIP), at: now)
        #expect(sentFrames(at: now).isEmpty)
        #expect(stack.arpCache.lookup(Host.remoteIP, at: now) == nil, "not addressed to us: nothing learned")
    }

    @Test mutating func requesterIsLearned() {
        stack.receive(Fixtures.arpRequestFrame, at: now)
        #expect(stack.arpCache.lookup(Host.remoteIP, at: now) == Host.remoteMAC)
        #expect(stack.statistics.arpEntriesLearned == 1)
    }

    @Test mutating func gratuitousARPUpdatesOnlyKnownEntries() {
        let newMAC = MACAddress(0x02, 0, 0, 0, 0, 0x42)
        stack.receive(Frame.arp(.request, senderMAC: newMAC, targetIP: Host.remoteIP), at: now)
        #expect(stack.arpCache.lookup(Host.remoteIP, at: now) == nil)
        stack.receive(Fixtures.arpRequestFrame, at: now)
        stack.receive(Frame.arp(.request, senderMAC: newMAC, targetIP: Host.remoteIP), at: now)
        #expect(stack.arpCache.lookup(Host.remoteIP, at: now) == newMAC)
    }

    @Test mutating func unknownOperationIsDropped() {
        stack.receive(Frame.arp(ARPOperation(rawValue: 9)), at: now)
        #expect(sentFrames(at: now).isEmpty)
        #expect(stack.statistics.droppedMalformed == 1)
    }

    @Test mutating func outgoingTrafficSendsRequest() throws {
        let endpoint = try stack.bindUDP(port: 9090)
        var collector = FrameCollector()
        try [1, 2, 3].withUnsafeBytes {
            try stack.send(datagram: $0, from: endpoint, to: Host.remoteIP, port: 4000, at: now, transmitter: &collector)
        }
        #expect(collector.frames.isEmpty, "the datagram waits for resolution")
        #expect(stack.nextDeadline == now)
        #expect(sentFrames(at: now) == [Fixtures.arpResolveFrame])
        #expect(stack.statistics.arpRequestsSent == 1)
    }

    @Test mutating func replyReleasesQueuedPackets() throws {
        let endpoint = try stack.bindUDP(port: 9090)
        var collector = FrameCollector()
        for byte: UInt8 in [1, 2] {
            try [byte].withUnsafeBytes {
                try stack.send(datagram: $0, from: endpoint, to: Host.remoteIP, port: 4000, at: now, transmitter: &collector)
            }
        }
        _ = sentFrames(at: now)
        stack.receive(Frame.arp(.reply, targetMAC: Host.localMAC, targetIP: Host.localIP, to: Host.localMAC), at: now)
        let frames = try sentFrames(at: now).map(Sent.init)
        #expect(frames.map(\.payload) == [[1], [2]])
        #expect(frames.allSatisfy { $0.ethernet.destination == Host.remoteMAC })
    }

    @Test mutating func queueBeyondLimitDropsAndCounts() throws {
        let endpoint = try stack.bindUDP(port: 9090)
        var collector = FrameCollector()
        for byte in 0..<UInt8(6) {
            try [byte].withUnsafeBytes {
                try stack.send(datagram: $0, from: endpoint, to: Host.remoteIP, port: 4000, at: now, transmitter: &collector)
            }
        }
        #expect(stack.statistics.arpQueueDrops == 2, "four wait, two are dropped")
    }

    @Test mutating func requestsAreRetriedThenAbandoned() throws {
        let endpoint = try stack.bindUDP(port: 9090)
        var collector = FrameCollector()
        try [1].withUnsafeBytes {
            try stack.send(datagram: $0, from: endpoint, to: Host.remoteIP, port: 4000, at: now, transmitter: &collector)
        }
        var times: [NetInstant] = []
        var clock = now
        for _ in 0..<6 {
            if !sentFrames(at: clock).isEmpty { times.append(clock) }
            guard stack.nextDeadline != .distantFuture else { break }
            clock = stack.nextDeadline
        }
        #expect(times == [now, now + .seconds(1), now + .seconds(2)])
        #expect(stack.statistics.arpResolutionFailures == 1)
        #expect(stack.statistics.arpQueueDrops == 1)
        #expect(stack.nextDeadline == .distantFuture)
    }

    @Test mutating func entriesExpire() {
        stack.receive(Fixtures.arpRequestFrame, at: now)
        #expect(stack.arpCache.lookup(Host.remoteIP, at: now + .seconds(59)) == Host.remoteMAC)
        #expect(stack.arpCache.lookup(Host.remoteIP, at: now + .seconds(60)) == nil)
    }

    @Test mutating func expiredEntryIsResolvedAgain() throws {
        stack.receive(Fixtures.arpRequestFrame, at: now)
        _ = sentFrames(at: now)
        let endpoint = try stack.bindUDP(port: 9090)
        var collector = FrameCollector()
        let later = now + .seconds(61)
        try [1].withUnsafeBytes {
            try stack.send(datagram: $0, from: endpoint, to: Host.remoteIP, port: 4000, at: later, transmitter: &collector)
        }
        #expect(collector.frames.isEmpty)
        #expect(sentFrames(at: later) == [Fixtures.arpResolveFrame])
    }

    @Test mutating func replyWaitsForAFreeTXFrame() {
        stack.receive(Fixtures.arpRequestFrame, at: now)
        #expect(sentFrames(at: now, capacity: 0).isEmpty)
        #expect(stack.nextDeadline == now, "the reply is still due")
        #expect(sentFrames(at: now) == [Fixtures.arpReplyFrame])
    }

    @Test mutating func offLinkDestinationResolvesGateway() throws {
        var configuration = Host.configuration()
        configuration.interface.gateway = IPv4Address(10, 10, 0, 254)
        stack = NetStack(configuration: configuration)
        let endpoint = try stack.bindUDP(port: 9090)
        var collector = FrameCollector()
        try [1].withUnsafeBytes {
            try stack.send(datagram: $0, from: endpoint, to: IPv4Address(192, 0, 2, 1), port: 53, at: now, transmitter: &collector)
        }
        let request = try Sent(sentFrames(at: now)[0])
        #expect(request.arp?.targetProtocolAddress == IPv4Address(10, 10, 0, 254))
    }

    @Test mutating func offLinkWithoutGatewayHasNoRoute() throws {
        let endpoint = try stack.bindUDP(port: 9090)
        var collector = FrameCollector()
        #expect(throws: NetError(.noRoute, "udp send")) {
            try [1].withUnsafeBytes {
                try stack.send(datagram: $0, from: endpoint, to: IPv4Address(192, 0, 2, 1), port: 53, at: now, transmitter: &collector)
            }
        }
    }
}

@Suite struct UnreachableNeighborTests {
    /// Nobody answers ARP for the peer: the connection must end, as the kernel's does after
    /// its SYN retries, rather than sit in SYN-SENT forever.
    @Test func connectToASilentNeighborTimesOut() throws {
        var stack = NetStack(configuration: Host.configuration())
        let connection = try stack.connect(to: Host.otherIP, port: 80, at: .seconds(1))
        var now = NetInstant.seconds(1)
        var closed: TCPCloseReason?
        for _ in 0..<2_000 where closed == nil {
            var collector = FrameCollector()
            stack.poll(at: now, transmitter: &collector)
            while let event = stack.nextEvent() {
                if case .closed(connection, let reason) = event { closed = reason }
            }
            now = max(now + .milliseconds(100), min(stack.nextDeadline, now + .seconds(10)))
        }
        #expect(closed == .timedOut)
        #expect(stack.state(of: connection) == nil)
        #expect(stack.statistics.arpResolutionFailures > 0)
        // Within the SYN retry schedule (1 + 2 + ... + 64 s), not an arbitrary bound.
        #expect(now < .seconds(200))
    }
}

/// ARP lock time (Linux's `locktime`): unsolicited ARP cannot move a recently confirmed entry.
@Suite struct ARPLockTests {
    static let spoofMAC = MACAddress(0x02, 0, 0, 0, 0, 0x66)
    var stack = NetStack(configuration: Host.configuration())

    init() {
        stack.receive(Fixtures.arpRequestFrame, at: .seconds(1))  // learns remoteIP at remoteMAC
    }

    /// An unsolicited reply claiming the peer's address for another MAC (what arpspoof sends).
    func spoofedReply() -> [UInt8] {
        Frame.arp(.reply, senderMAC: Self.spoofMAC, senderIP: Host.remoteIP, targetMAC: Host.localMAC, targetIP: Host.localIP,
                  to: Host.localMAC)
    }

    @Test mutating func anUnsolicitedReplyCannotMoveAFreshEntry() {
        stack.receive(spoofedReply(), at: .milliseconds(1_500))
        #expect(stack.arpCache.lookup(Host.remoteIP, at: .milliseconds(1_500)) == Host.remoteMAC)
        #expect(stack.statistics.arpUpdatesIgnored == 1)
    }

    @Test mutating func trafficFromTheRealMACKeepsTheEntryLocked() {
        var t = TCPHarness()
        t.acceptConnection()
        t.advance(by: .seconds(10))
        t.send(t.remote(seq: t.remoteISN + 1, ack: t.localISN + 1), payload: pattern(5))  // the real client, still talking
        t.advance(by: .milliseconds(500))
        t.stack.receive(spoofedReply(), at: t.now)
        #expect(t.stack.arpCache.lookup(Host.remoteIP, at: t.now) == Host.remoteMAC)
        #expect(t.stack.statistics.arpUpdatesIgnored == 1)
    }

    @Test mutating func anEntryNotConfirmedForTheLockTimeMayMove() {
        stack.receive(spoofedReply(), at: .seconds(3))
        #expect(stack.arpCache.lookup(Host.remoteIP, at: .seconds(3)) == Self.spoofMAC)
    }

    @Test mutating func aGratuitousAnnouncementMovesItAtOnce() {
        // RFC 5227 §2.3: sender and target protocol address the same (an address that moved).
        stack.receive(Frame.arp(.request, senderMAC: Self.spoofMAC, senderIP: Host.remoteIP, targetIP: Host.remoteIP), at: .milliseconds(1_100))
        #expect(stack.arpCache.lookup(Host.remoteIP, at: .milliseconds(1_100)) == Self.spoofMAC)
    }
}

/// Stacks on the queues of one interface share what they learn from ARP: the answer lands on
/// one queue, the flow that needs it may be on another.
@Suite struct SharedNeighbourTests {
    static func pair() -> (NetStack, NetStack) {
        var configuration = Host.configuration()
        configuration.sharedNeighbours = SharedNeighbours()
        return (NetStack(configuration: configuration), NetStack(configuration: configuration))
    }

    @Test func aNeighbourLearnedOnOneQueueServesAnother() throws {
        var (a, b) = Self.pair()
        let now = NetInstant.seconds(10)
        a.receive(Frame.arp(.request), at: now)  // Host.remoteIP asks for us on queue A
        _ = try a.pollFrames(at: now)
        _ = try b.connect(to: Host.remoteIP, port: 9090, at: now)
        let sent = try b.pollFrames(at: now)
        #expect(sent.map(\.arp) == [nil], "no ARP request on queue B")
        #expect(sent.first?.tcp?.flags == .syn)
        #expect(sent.first?.ethernet.destination == Host.remoteMAC)
    }

    @Test func aFlowWaitingOnOneQueueGoesOutWhenAnotherHearsTheAnswer() throws {
        var (a, b) = Self.pair()
        var now = NetInstant.seconds(10)
        _ = try b.connect(to: Host.otherIP, port: 9090, at: now)
        var sent = try b.pollFrames(at: now)
        if sent.isEmpty { sent = try b.pollFrames(at: now) }
        #expect(sent.first?.arp?.targetProtocolAddress == Host.otherIP)
        // The reply is hashed to queue A (it asked too, or the request was broadcast).
        let otherMAC = MACAddress(0x02, 0, 0, 0, 0, 0x99)
        a.receive(Frame.arp(.request, senderMAC: otherMAC, senderIP: Host.otherIP), at: now)
        now += .seconds(1)
        let retried = try b.pollFrames(at: now)
        #expect(retried.allSatisfy { $0.arp == nil }, "B used A's answer instead of asking again")
        #expect(retried.first?.tcp?.flags == .syn)
        #expect(retried.first?.ethernet.destination == otherMAC)
    }

    @Test func staleSharedEntriesAreNotUsed() {
        let shared = SharedNeighbours(lifetime: .seconds(60))
        shared.publish(Host.remoteIP, at: Host.remoteMAC, now: .seconds(10))
        #expect(shared.lookup(Host.remoteIP, at: .seconds(69)) == Host.remoteMAC)
        #expect(shared.lookup(Host.remoteIP, at: .seconds(70)) == nil)
    }
}
