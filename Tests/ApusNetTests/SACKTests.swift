@testable import ApusNet
import ApusTesting
import ApusWire
import Testing

/// Selective acknowledgments (RFC 2018) and SACK-based loss recovery (RFC 6675), with the
/// test as the peer.
@Suite struct SACKTests {
    static let mss = TCPHarness.mss
    static let sackSYN = TCPOptions(maximumSegmentSize: 1460, sackPermitted: true)

    // MARK: Negotiation (RFC 2018 §2)

    @Test func synACKOffersSACKOnlyToAPeerThatOffered() {
        var t = TCPHarness()
        try! t.stack.listen(on: TCPHarness.localPort)
        t.send(t.remote(seq: t.remoteISN, flags: .syn, options: Self.sackSYN))
        t.expect(t.local(seq: t.localISN, ack: t.remoteISN + 1, flags: .syn, options: Self.sackSYN))

        var plain = TCPHarness()
        plain.acceptConnection()
        #expect(plain.connection?.sackEnabled == false)
    }

    @Test func configuredOffStaysOffWhateverThePeerOffers() {
        var t = TCPHarness { $0.tcp.selectiveAcknowledgments = false }
        try! t.stack.listen(on: TCPHarness.localPort)
        t.send(t.remote(seq: t.remoteISN, flags: .syn, options: Self.sackSYN))
        t.expect(t.local(seq: t.localISN, ack: t.remoteISN + 1, flags: .syn, options: TCPOptions(maximumSegmentSize: 1460)))
    }

    @Test func activeOpenUsesSACKOnlyWhenTheSYNACKAgrees() {
        var agreed = TCPHarness()
        agreed.openConnection(synAckOptions: Self.sackSYN)
        #expect(agreed.connection?.sackEnabled == true)
        var refused = TCPHarness()
        refused.openConnection()
        #expect(refused.connection?.sackEnabled == false)
    }

    // MARK: Receiver (RFC 2018 §4)

    /// Segment `n` of the peer's stream (after its SYN), full-sized.
    func segment(_ t: TCPHarness, _ n: Int, ack: SequenceNumber) -> TCPRepr {
        t.remote(seq: t.remoteISN + 1 + n * Self.mss, ack: ack)
    }

    func block(_ t: TCPHarness, _ from: Int, _ to: Int) -> SACKBlock {
        SACKBlock(left: t.remoteISN + 1 + from * Self.mss, right: t.remoteISN + 1 + to * Self.mss)
    }

    @Test func outOfOrderDataIsReportedNewestRangeFirst() {
        var t = TCPHarness()
        t.acceptConnection(synOptions: Self.sackSYN)
        let rcv = t.remoteISN + 1, snd = t.localISN + 1
        let data = pattern(Self.mss)
        func ack(_ blocks: [SACKBlock], window: Int) -> TCPRepr {
            t.local(seq: snd, ack: rcv, window: UInt16(window), options: TCPOptions(sackBlocks: SACKBlocks(blocks)))
        }
        t.send(segment(t, 2, ack: snd), payload: data)
        t.expect(ack([block(t, 2, 3)], window: TCPHarness.bufferSize))
        t.send(segment(t, 4, ack: snd), payload: data)
        t.expect(ack([block(t, 4, 5), block(t, 2, 3)], window: TCPHarness.bufferSize))
        t.send(segment(t, 6, ack: snd), payload: data)
        t.expect(ack([block(t, 6, 7), block(t, 4, 5), block(t, 2, 3)], window: TCPHarness.bufferSize))
        // Segment 3 joins 2 and 4: one range, reported first as the newest arrival's.
        t.send(segment(t, 3, ack: snd), payload: data)
        t.expect(ack([block(t, 2, 5), block(t, 6, 7)], window: TCPHarness.bufferSize))
        // The hole at the start filled: a plain cumulative ACK up to the next hole, then its range.
        t.send(segment(t, 0, ack: snd), payload: data)
        t.send(segment(t, 1, ack: snd), payload: data)
        let sent = t.poll().map(\.0)
        #expect(sent.last?.acknowledgmentNumber == rcv + 5 * Self.mss)
        #expect(Array(sent.last?.options.sackBlocks ?? SACKBlocks()) == [block(t, 6, 7)])
        t.send(segment(t, 5, ack: snd), payload: data)
        let last = t.poll().map(\.0).last
        #expect(last?.acknowledgmentNumber == rcv + 7 * Self.mss)
        #expect(last?.options.sackBlocks.isEmpty == true)
        #expect(t.read() == (0..<7).flatMap { _ in data })
    }

    @Test func blocksAreBoundedByTheOptionSpace() {
        // Without timestamps four blocks fit; with them (12 bytes) three.
        for timestamps in [false, true] {
            var t = TCPHarness(timestamps: timestamps)
            var syn = Self.sackSYN
            if timestamps { syn.timestamps = TCPTimestamps(value: 1, echoReply: 0) }
            t.acceptConnection(synOptions: syn)
            let snd = t.localISN + 1
            var sent: [TCPRepr] = []
            for n in stride(from: 1, through: 9, by: 2) {
                var segment = segment(t, n, ack: snd)
                if timestamps { segment.options.timestamps = TCPTimestamps(value: 2, echoReply: 0) }
                t.send(segment, payload: pattern(Self.mss))
                sent += t.poll().map(\.0)
            }
            let blocks = sent.last?.options.sackBlocks ?? SACKBlocks()
            #expect(blocks.count == (timestamps ? 3 : 4))
            #expect(blocks.first == block(t, 9, 10), "the newest first")
            #expect((sent.last?.options.encodedLength ?? 99) <= TCPOptions.maximumLength)
        }
    }

    @Test func aFullSizedDataSegmentCarriesNoBlocksThatWouldOverflowIt() {
        var t = TCPHarness()
        t.acceptConnection(synOptions: Self.sackSYN)
        let snd = t.localISN + 1
        t.send(segment(t, 2, ack: snd), payload: pattern(Self.mss))
        _ = t.poll()
        _ = t.write(pattern(Self.mss + 100))
        let sent = t.poll().map(\.0)
        #expect(sent.count == 2)
        #expect(sent[0].payloadLength == Self.mss && sent[0].options.sackBlocks.isEmpty)
        #expect(sent[1].payloadLength == 100 && sent[1].options.sackBlocks.count == 1, "room for a block beside 100 bytes")
    }

    // MARK: Sender (RFC 2018 §5, RFC 6675)

    /// Established with SACK agreed, `segments` full-sized segments sent and unacknowledged.
    static func sender(inFlight segments: Int) -> TCPHarness {
        var t = TCPHarness()
        t.acceptConnection(synOptions: sackSYN)
        _ = t.write(pattern(segments * mss))
        #expect(t.poll().count == segments)
        return t
    }

    /// Where our segment `n` starts.
    static func seq(_ t: TCPHarness, _ n: Int) -> SequenceNumber { t.localISN + 1 + n * mss }

    /// The peer's ACK up to our segment `n`, SACKing the segment ranges `holding` (half-open).
    static func ack(_ t: TCPHarness, _ n: Int, holding blocks: [(Int, Int)] = []) -> TCPRepr {
        t.remote(seq: t.remoteISN + 1, ack: seq(t, n), options: TCPOptions(sackBlocks: SACKBlocks(blocks.map {
            SACKBlock(left: seq(t, $0.0), right: seq(t, $0.1))
        })))
    }

    /// Our segment `n` resent.
    static func resent(_ t: TCPHarness, _ n: Int, flags: TCPFlags = []) -> TCPRepr {
        t.local(seq: seq(t, n), ack: t.remoteISN + 1, flags: flags, length: mss)
    }

    /// Ten segments in flight; the peer lost segments 0 and 2 and SACKs the rest as they come.
    /// The fast retransmit resends 0; once segment 2 counts as lost (more than two segments
    /// SACKed above it) and `pipe` leaves room, 2 is resent too, within the same round trip,
    /// and nothing the peer holds is ever sent again.
    @Test func lossRecoveryResendsOnlyTheHolesThePeerReports() {
        var t = Self.sender(inFlight: 10)
        t.send(Self.ack(t, 0, holding: [(1, 2)]))
        t.send(Self.ack(t, 0, holding: [(3, 4), (1, 2)]))
        t.expectNothing()
        t.send(Self.ack(t, 0, holding: [(3, 5), (1, 2)]))
        // The third duplicate: segment 0 again, and nothing else yet (pipe ≥ cwnd = 5 segments).
        t.expect(Self.resent(t, 0), payloads: [pattern(Self.mss)])
        #expect(t.connection?.inFastRecovery == true)
        #expect(t.connection?.congestionWindow == 5 * Self.mss, "ssthresh = cwnd = FlightSize / 2, no inflation")
        t.send(Self.ack(t, 0, holding: [(3, 6), (1, 2)]))
        t.expectNothing()
        t.send(Self.ack(t, 0, holding: [(3, 7), (1, 2)]))
        t.expect(Self.resent(t, 2), payloads: [pattern(Self.mss, offset: 2 * Self.mss)])
        for end in 8...10 { t.send(Self.ack(t, 0, holding: [(3, end), (1, 2)])) }
        t.expectNothing()
        // The peer got segment 0: a partial ACK up to the hole at 2, already resent.
        t.send(Self.ack(t, 2, holding: [(3, 10)]))
        t.expectNothing()
        t.send(Self.ack(t, 10))
        #expect(t.connection?.inFastRecovery == false)
        #expect(t.connection?.scoreboard.isEmpty == true)
        #expect(t.stack.statistics.tcpFastRetransmits == 1)
        #expect(t.stack.statistics.tcpSACKRetransmits == 1)
        #expect(t.stack.statistics.tcpRetransmissions == 2)
    }

    @Test func threeSegmentsSACKedAboveStartRecoveryBeforeThreeDuplicates() {
        var t = Self.sender(inFlight: 10)
        // One ACK (its duplicates lost) SACKing segments 1 to 3: segment 0 is lost (IsLost).
        t.send(Self.ack(t, 0, holding: [(1, 4)]))
        t.expect(Self.resent(t, 0))
        #expect(t.connection?.inFastRecovery == true)
    }

    @Test func duplicatesRidingOnThePeersDataCountWhenTheyReportNewBlocks() {
        var t = Self.sender(inFlight: 10)
        for (n, blocks) in [[(1, 2)], [(1, 3)], [(1, 3)], [(1, 4)]].enumerated() {
            var ack = Self.ack(t, 0, holding: blocks)
            ack.sequenceNumber = t.remoteISN + 1 + n * 100
            t.send(ack, payload: pattern(100))
        }
        // The third of them (the repeat of [1, 3) told nothing new and is not counted) starts
        // recovery, whatever the window field, as RFC 5681's definition alone would not.
        #expect(t.connection?.duplicateACKs == 3)
        #expect(t.connection?.inFastRecovery == true)
        #expect(t.poll().contains { $0.0.sequenceNumber == Self.seq(t, 0) && $0.0.payloadLength == Self.mss })
    }

    @Test func blocksOutsideWhatIsOutstandingAreIgnored() {
        var t = Self.sender(inFlight: 4)
        // D-SACK below SND.UNA, past SND.MAX, backwards.
        t.send(Self.ack(t, 1, holding: [(0, 1), (3, 9), (3, 2)]))
        #expect(t.connection?.scoreboard.isEmpty == true)
    }

    /// After a timeout the go-back-N resend steps over what the peer SACKed (RFC 6675 §5.1).
    @Test func aTimeoutResendsOnlyWhatThePeerDoesNotHold() {
        var t = Self.sender(inFlight: 4)
        t.send(Self.ack(t, 0, holding: [(2, 3)]))
        t.advanceToDeadline()
        t.expect(Self.resent(t, 0))
        #expect(t.stack.statistics.tcpTimeouts == 1)
        // Segment 0 arrived; 1 is resent, 2 (held) is stepped over.
        t.send(Self.ack(t, 1, holding: [(2, 3)]))
        t.expect(Self.resent(t, 1))
        t.send(Self.ack(t, 3))
        t.expect(Self.resent(t, 3, flags: .psh), payloads: [pattern(Self.mss, offset: 3 * Self.mss)])
        t.send(Self.ack(t, 4))
        #expect(t.stack.statistics.tcpRetransmissions == 3, "segments 0, 1 and 3; never 2")
    }

    /// A peer that reneges on SACKed data (RFC 2018 §8) never acknowledges past it: the second
    /// timeout without progress forgets the scoreboard, so everything is resent.
    @Test func aSecondTimeoutWithoutProgressForgetsTheScoreboard() {
        var t = Self.sender(inFlight: 3)
        t.send(Self.ack(t, 0, holding: [(1, 2)]))
        t.advanceToDeadline()
        _ = t.poll()
        #expect(t.connection?.scoreboard.isEmpty == false)
        t.advanceToDeadline()
        t.expect(Self.resent(t, 0))
        #expect(t.connection?.scoreboard.isEmpty == true)
        #expect(t.stack.statistics.tcpTimeouts == 2)
    }
}

/// The scoreboard's bookkeeping and RFC 6675's `IsLost` and `SetPipe` on it.
@Suite struct SACKScoreboardTests {
    let base = SequenceNumber(4_294_960_000)  // wraps within the tests
    func s(_ offset: Int) -> SequenceNumber { base + offset }

    @Test func rangesMergeAndTrim() {
        var board = SACKScoreboard()
        let first = board.insert(left: s(100), right: s(200))
        let second = board.insert(left: s(300), right: s(400))
        let inside = board.insert(left: s(120), right: s(180))
        let joining = board.insert(left: s(200), right: s(300))
        #expect(first && second)
        #expect(!inside, "nothing new")
        #expect(joining, "joins both")
        #expect(board.blocks == [.init(left: s(100), right: s(400))])
        board.removeAll(below: s(150))
        #expect(board.blocks == [.init(left: s(150), right: s(400))])
        board.removeAll(below: s(400))
        #expect(board.isEmpty)
    }

    @Test func theRangeCountIsBounded() {
        var board = SACKScoreboard()
        for n in 0..<(SACKScoreboard.maximumRanges + 5) { board.insert(left: s(n * 10), right: s(n * 10 + 5)) }
        #expect(board.blocks.count == SACKScoreboard.maximumRanges)
        #expect(board.blocks.first?.left == s(0), "the lowest ranges, which recovery needs first, are kept")
    }

    @Test func lossBoundaryByBytesAndByRanges() {
        var board = SACKScoreboard()
        board.insert(left: s(1000), right: s(1500))
        #expect(board.lossBoundary(segmentSize: 100) == s(1300), "more than 200 bytes SACKed above")
        var ranges = SACKScoreboard()
        for n in 0..<3 { ranges.insert(left: s(1000 + n * 100), right: s(1010 + n * 100)) }
        #expect(ranges.lossBoundary(segmentSize: 1000) == s(1000), "three ranges above")
        var little = SACKScoreboard()
        little.insert(left: s(1000), right: s(1100))
        #expect(little.lossBoundary(segmentSize: 100) == nil)
    }

    @Test func holesAndPipe() {
        var board = SACKScoreboard()
        board.insert(left: s(100), right: s(200))
        board.insert(left: s(300), right: s(600))
        #expect(board.hole(from: s(0)) == .init(left: s(0), right: s(100)))
        #expect(board.hole(from: s(150)) == .init(left: s(200), right: s(300)))
        #expect(board.hole(from: s(300)) == nil)
        // Below 400, more than 2 × 100 bytes are SACKed above: lost.
        let lost = board.lossBoundary(segmentSize: 100)
        #expect(lost == s(400))
        // In flight 0 ..< 800: unSACKed and not lost 600 ..< 800 (200), plus 0 ..< 50 resent (50).
        #expect(board.pipe(unacknowledged: s(0), sent: s(800), retransmittedEnd: s(50), segmentSize: 100) == 250)
    }
}
