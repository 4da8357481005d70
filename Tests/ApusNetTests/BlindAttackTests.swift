@testable import ApusNet
import ApusTesting
import ApusWire
import Testing

/// Forged segments that must not hurt an established connection: PAWS poisoning
/// through TS.Recent (RFC 7323 §5.3 with RFC 5961), and the challenge-ACK budget
/// (RFC 5961 §7).
@Suite struct BlindAttackTests {
    /// An established connection with timestamps on both sides; the peer's TSval is 5001.
    static func connected() -> TCPHarness {
        var t = TCPHarness(timestamps: true)
        try! t.stack.listen(on: TCPHarness.localPort)
        var options = TCPOptions(maximumSegmentSize: 1460)
        options.timestamps = TCPTimestamps(value: 5000, echoReply: 0)
        t.send(t.remote(seq: t.remoteISN, flags: .syn, options: options))
        _ = t.poll()
        t.send(t.remote(seq: t.remoteISN + 1, ack: t.localISN + 1, options: stamp(5001)))
        if case .accepted(let handle, _)? = t.takeEvents().first { t.handle = handle }
        return t
    }

    static func stamp(_ value: UInt32) -> TCPOptions {
        var options = TCPOptions()
        options.timestamps = TCPTimestamps(value: value, echoReply: 0)
        return options
    }

    static let future: UInt32 = 5001 &+ 0x7000_0000

    /// Each forged segment carries a TSval far in the future and is dropped; a genuine segment
    /// with the next real TSval must still be accepted afterwards.
    @Test(arguments: ["no flags", "in-window SYN", "ACK above SND.MAX", "in-window RST with payload", "stale ACK"])
    func aDroppedForgedSegmentDoesNotMoveTSRecent(kind: String) throws {
        var t = Self.connected()
        let rcv = t.remoteISN + 1, snd = t.localISN + 1
        let forged: TCPRepr
        switch kind {
        case "no flags": forged = t.remote(seq: rcv, options: Self.stamp(Self.future))
        case "in-window SYN": forged = t.remote(seq: rcv + 10, flags: .syn, options: Self.stamp(Self.future))
        case "ACK above SND.MAX": forged = t.remote(seq: rcv, ack: snd + 100_000, options: Self.stamp(Self.future))
        case "in-window RST with payload": forged = t.remote(seq: rcv + 10, flags: .rst, options: Self.stamp(Self.future))
        default: forged = t.remote(seq: rcv, ack: snd - 1_000_000, options: Self.stamp(Self.future))
        }
        t.send(forged, payload: pattern(4))
        _ = t.poll()
        #expect(t.state == .established)
        #expect(t.connection?.timestampRecent == 5001, "TS.Recent moved by a dropped segment")
        t.send(t.remote(seq: rcv, ack: snd, options: Self.stamp(5002)), payload: pattern(10))
        let handle = try #require(t.handle)
        #expect(t.stack.bytesAvailable(on: handle) == 10, "a genuine segment after the forged one is accepted")
    }

    @Test func challengeACKsAreLimitedPerConnectionPerSecond() {
        var t = TCPHarness()
        t.acceptConnection()
        let rcv = t.remoteISN + 1
        var answered = 0
        for offset in 0..<50 {
            t.send(t.remote(seq: rcv + 100 + offset, flags: .rst))
            answered += t.poll().count
        }
        #expect(answered == 10)
        #expect(t.stack.statistics.tcpChallengeACKs == 10)
        #expect(t.stack.statistics.tcpChallengeACKsSuppressed == 40)
        #expect(t.state == .established)
        t.advance(by: .seconds(1))
        t.send(t.remote(seq: rcv + 200, flags: .rst))
        #expect(t.poll().count == 1, "a new second, a new budget")
    }

    /// RFC 9293 answers a segment outside the window with an ACK; one per
    /// `invalidSegmentACKInterval` (Linux's 500 ms) tells a genuine peer all it needs, so 200
    /// forged segments draw one ACK, not 200, and the connection is untouched.
    @Test func answersToSegmentsOutsideTheWindowAreRateLimited() throws {
        var t = TCPHarness()
        t.acceptConnection()
        let rcv = t.remoteISN + 1, snd = t.localISN + 1
        var answered = 0
        for offset in 0..<200 {
            t.send(t.remote(seq: rcv + 1_000_000 + offset * 10, ack: snd), payload: pattern(4))
            answered += t.poll().count
        }
        #expect(answered == 1)
        #expect(t.stack.statistics.tcpInvalidSegmentACKsSuppressed == 199)
        t.advance(by: .milliseconds(500))
        t.send(t.remote(seq: rcv - 100, ack: snd), payload: pattern(4))
        t.expect(t.local(seq: snd, ack: rcv))
        t.send(t.remote(seq: rcv, ack: snd), payload: pattern(10))
        let handle = try #require(t.handle)
        #expect(t.stack.bytesAvailable(on: handle) == 10)
    }
}

/// The application's aborts are not stateless replies: when many connections are aborted in
/// one tick (message deadlines expiring together under a slowloris), every peer gets its RST,
/// however small the queue for replies to arriving packets.
@Suite struct MassAbortTests {
    @Test func everyAbortInOneTickSendsItsReset() throws {
        var t = TCPHarness()
        try t.stack.listen(on: TCPHarness.localPort)
        let count = 3 * t.stack.configuration.maximumPendingReplies
        for i in 0..<count {
            let port = UInt16(40_000 + i)
            t.send(TCPRepr(sourcePort: port, destinationPort: TCPHarness.localPort, sequenceNumber: t.remoteISN,
                           flags: .syn, windowSize: 65_535, options: TCPOptions(maximumSegmentSize: 1460)))
            let synAck = try #require(t.poll().first?.0)
            t.send(TCPRepr(sourcePort: port, destinationPort: TCPHarness.localPort, sequenceNumber: t.remoteISN + 1,
                           acknowledgmentNumber: synAck.sequenceNumber + 1, flags: .ack, windowSize: 65_535))
        }
        let handles = t.takeEvents().compactMap { event -> TCPHandle? in
            if case .accepted(let handle, _) = event { handle } else { nil }
        }
        #expect(handles.count == count)
        for handle in handles { try t.stack.abort(handle, at: t.now) }
        let resets = t.poll().filter { $0.0.flags.contains(.rst) }
        #expect(Set(resets.map(\.0.destinationPort)).count == count)
        #expect(t.stack.statistics.replyQueueDrops == 0)
    }
}

/// SYNs from addresses no connection can have are dropped, not answered (RFC 1122 §4.2.3.10).
@Suite struct BadSourceTests {
    static let sources: [(String, IPv4Address, MACAddress)] = [
        ("limited broadcast", .broadcast, Host.remoteMAC),
        ("subnet broadcast", IPv4Address(10, 10, 0, 255), Host.remoteMAC),
        ("multicast", IPv4Address(224, 0, 0, 1), Host.remoteMAC),
        ("unspecified", IPv4Address(0, 0, 0, 0), Host.remoteMAC),
        ("our own address", Host.localIP, Host.remoteMAC),
        ("a link-layer broadcast sender", Host.remoteIP, .broadcast),
    ]

    @Test(arguments: 0..<6)
    func aSYNFromAnImpossibleSourceIsDroppedSilently(index: Int) {
        let (_, source, mac) = Self.sources[index]
        var t = TCPHarness()
        try! t.stack.listen(on: TCPHarness.localPort)
        let syn = t.remote(seq: t.remoteISN, flags: .syn, options: TCPOptions(maximumSegmentSize: 1460))
        t.stack.receive(Frame.tcp(syn, from: source, macFrom: mac), at: t.now)
        t.expectNothing()
        #expect(t.stack.connectionCount == 0)
        #expect(t.stack.statistics.droppedBadSource == 1)
    }

    @Test func aSYNFromAnOrdinaryNeighbourIsAnswered() {
        var t = TCPHarness()
        try! t.stack.listen(on: TCPHarness.localPort)
        t.send(t.remote(seq: t.remoteISN, flags: .syn, options: TCPOptions(maximumSegmentSize: 1460)))
        #expect(t.poll().map(\.0.flags) == [[.syn, .ack]])
        #expect(t.stack.statistics.droppedBadSource == 0)
    }
}
