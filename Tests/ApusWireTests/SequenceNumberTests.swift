import ApusWire
import Testing

@Suite struct SequenceNumberTests {
    /// RFC 9293 §3.4: comparisons are modulo 2^32, so a number just past the wrap is "after".
    @Test func comparisonWrapsAround() {
        let beforeWrap = SequenceNumber(0xFFFF_FFF0)
        let afterWrap = SequenceNumber(0x10)
        #expect(beforeWrap < afterWrap)
        #expect(!(afterWrap < beforeWrap))
        #expect(afterWrap > beforeWrap)
        #expect(beforeWrap <= beforeWrap)
        #expect(max(beforeWrap, afterWrap) == afterWrap)
    }

    @Test func additionWraps() {
        #expect(SequenceNumber(0xFFFF_FFFF) + 1 == SequenceNumber(0))
        #expect(SequenceNumber(0xFFFF_FFF0) + UInt32(0x20) == SequenceNumber(0x10))
        #expect(SequenceNumber(5) - 10 == SequenceNumber(0xFFFF_FFFB))
        #expect(SequenceNumber(5) + -10 == SequenceNumber(0xFFFF_FFFB))
        #expect(SequenceNumber(5) - UInt32(6) == SequenceNumber(0xFFFF_FFFF))
        var next = SequenceNumber(0xFFFF_FFFE)
        next += 3
        #expect(next == SequenceNumber(1))
        next -= 2
        #expect(next == SequenceNumber(0xFFFF_FFFF))
    }

    @Test func distanceIsSignedAcrossTheWrap() {
        let una = SequenceNumber(0xFFFF_FF00)
        let nxt = SequenceNumber(0x100)
        #expect(una.distance(to: nxt) == 0x200)
        #expect(nxt.distance(to: una) == -0x200)
        #expect(nxt - una == 0x200)
        #expect(una.advanced(by: 0x200) == nxt)
    }

    /// Numbers exactly 2^31 apart are not ordered either way: the limit of serial arithmetic.
    @Test func halfTheSpaceApartIsUnordered() {
        let a = SequenceNumber(0)
        let b = SequenceNumber(0x8000_0000)
        #expect(!(a < b) && !(b < a) && a != b)
        #expect(a < SequenceNumber(0x7FFF_FFFF))
        #expect(SequenceNumber(0x8000_0001) < a)
    }

    /// RFC 9293 §3.10.7.4's acceptability test, RCV.NXT <= SEG.SEQ < RCV.NXT + RCV.WND, as a range.
    @Test func windowRangeSpansTheWrap() {
        let receiveNext = SequenceNumber(0xFFFF_FF00)
        let window = receiveNext..<(receiveNext + 0x1000)
        #expect(window.contains(SequenceNumber(0)))
        #expect(window.contains(receiveNext))
        #expect(!window.contains(receiveNext + 0x1000))
        #expect(!window.contains(receiveNext - 1))
    }
}
