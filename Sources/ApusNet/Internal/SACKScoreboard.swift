import ApusWire

/// What the peer's SACK blocks (RFC 2018 §3) say it holds above SND.UNA, and the questions
/// RFC 6675 asks of that: which bytes count as lost (`IsLost`), how many are still in the
/// network (`SetPipe`), which to resend next (`NextSeg`).
///
/// Sorted, disjoint, non-adjacent ranges `left ..< right` of sequence numbers, all above
/// SND.UNA. The array stays unallocated until a peer first reports a SACK block, so only
/// connections that see loss pay for it; beyond `maximumRanges` the highest range is
/// forgotten, which only makes the sender more conservative (it may resend SACKed bytes).
struct SACKScoreboard {
    struct Block: Equatable {
        var left: SequenceNumber
        var right: SequenceNumber
    }

    private(set) var blocks: [Block] = []
    static let maximumRanges = 32
    /// DupThresh (RFC 6675 §2): the duplicate ACKs, or SACKed segments, that mean loss.
    static let duplicateThreshold = 3

    var isEmpty: Bool { blocks.isEmpty }

    /// HighSACKed + 1: the end of the highest range the peer holds.
    var highestSACKed: SequenceNumber? { blocks.last?.right }

    /// Records `left ..< right`, merging what it overlaps or touches. Returns whether it told
    /// anything new (RFC 6675 §2: an ACK with new SACK information counts as a duplicate).
    @discardableResult
    mutating func insert(left: SequenceNumber, right: SequenceNumber) -> Bool {
        guard left < right else { return false }
        var low = 0
        while low < blocks.count && blocks[low].right < left { low += 1 }
        var high = low
        while high < blocks.count && blocks[high].left <= right { high += 1 }
        if low == high {
            blocks.insert(Block(left: left, right: right), at: low)
            if blocks.count > Self.maximumRanges { blocks.removeLast() }
            return true
        }
        let merged = Block(left: min(blocks[low].left, left), right: max(blocks[high - 1].right, right))
        let grew = high - low > 1 || merged != blocks[low]
        blocks.replaceSubrange(low..<high, with: CollectionOfOne(merged))
        return grew
    }

    /// SND.UNA moved to `acknowledged`: what lies below it is no longer the scoreboard's.
    mutating func removeAll(below acknowledged: SequenceNumber) {
        var drop = 0
        while drop < blocks.count && blocks[drop].right <= acknowledged { drop += 1 }
        if drop > 0 { blocks.removeFirst(drop) }
        if let first = blocks.first, first.left < acknowledged { blocks[0].left = acknowledged }
    }

    /// After a retransmission timeout the receiver may have reneged: RFC 2018 §5.1 has the
    /// sender ignore what it was told before.
    mutating func removeAll() { blocks.removeAll(keepingCapacity: true) }

    /// SACKed bytes within `from ..< to`.
    func sackedBytes(from start: SequenceNumber, to end: SequenceNumber) -> Int {
        var total = 0
        for block in blocks where block.right > start && block.left < end {
            total += min(block.right, end) - max(block.left, start)
        }
        return total
    }

    /// RFC 6675 `IsLost` as a boundary: an unSACKed byte below it is lost, since either
    /// DupThresh discontiguous ranges or more than (DupThresh − 1) × SMSS SACKed bytes lie above
    /// it. nil: nothing is lost yet.
    func lossBoundary(segmentSize: Int) -> SequenceNumber? {
        let byteThreshold = (Self.duplicateThreshold - 1) * segmentSize
        var bytesAbove = 0
        var byBytes: SequenceNumber?
        var byRanges: SequenceNumber?
        for (count, block) in blocks.reversed().enumerated() {
            if count + 1 == Self.duplicateThreshold { byRanges = block.left }
            let length = block.right - block.left
            if byBytes == nil && bytesAbove + length > byteThreshold {
                byBytes = block.right - (byteThreshold - bytesAbove)
            }
            bytesAbove += length
            if byBytes != nil && byRanges != nil { break }
        }
        switch (byBytes, byRanges) {
        case let (bytes?, ranges?): return max(bytes, ranges)
        case let (bytes?, nil): return bytes
        case let (nil, ranges?): return ranges
        case (nil, nil): return nil
        }
    }

    /// The first unSACKed range at or after `sequence` that has SACKed data above it (a hole),
    /// or nil when no SACKed byte lies above `sequence`.
    func hole(from sequence: SequenceNumber) -> Block? {
        var cursor = sequence
        for block in blocks where block.right > cursor {
            if block.left > cursor { return Block(left: cursor, right: block.left) }
            cursor = block.right
        }
        return nil
    }

    /// RFC 6675 `SetPipe`: the bytes of `unacknowledged ..< sent` still in the network. Each
    /// unSACKed byte counts once if not lost and once more if retransmitted (below
    /// `retransmittedEnd`, HighRxt + 1).
    func pipe(unacknowledged: SequenceNumber, sent: SequenceNumber, retransmittedEnd: SequenceNumber,
              segmentSize: Int) -> Int {
        func unSACKed(_ start: SequenceNumber, _ end: SequenceNumber) -> Int {
            start < end ? (end - start) - sackedBytes(from: start, to: end) : 0
        }
        let lost = lossBoundary(segmentSize: segmentSize) ?? unacknowledged
        let notLostStart = max(lost, unacknowledged)
        return unSACKed(notLostStart, sent) + unSACKed(unacknowledged, min(retransmittedEnd, sent))
    }
}
