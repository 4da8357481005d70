/// Which byte ranges past RCV.NXT have arrived out of order.
///
/// The bytes themselves go straight into the receive ring's free space (at
/// their offset from RCV.NXT), so only the ranges are kept here: a bounded,
/// sorted list of disjoint, non-adjacent half-open intervals of offsets from
/// RCV.NXT. Nothing allocates after `init`.
struct ReassemblyQueue {
    private(set) var ranges: [Range<Int>] = []
    let maximumRanges: Int

    init(maximumRanges: Int) {
        self.maximumRanges = max(maximumRanges, 1)
        ranges.reserveCapacity(self.maximumRanges + 1)
    }

    var isEmpty: Bool { ranges.isEmpty }

    /// Records `range`, merging it with the ranges it overlaps or touches. Returns false,
    /// recording nothing, when it would need more than `maximumRanges` entries.
    mutating func insert(_ range: Range<Int>) -> Bool {
        guard !range.isEmpty else { return true }
        var low = 0
        while low < ranges.count && ranges[low].upperBound < range.lowerBound { low += 1 }
        var high = low
        while high < ranges.count && ranges[high].lowerBound <= range.upperBound { high += 1 }
        if low == high {
            guard ranges.count < maximumRanges else { return false }
            ranges.insert(range, at: low)
        } else {
            let merged = min(ranges[low].lowerBound, range.lowerBound)..<max(ranges[high - 1].upperBound, range.upperBound)
            ranges.replaceSubrange(low..<high, with: CollectionOfOne(merged))
        }
        return true
    }

    /// RCV.NXT advanced by `length` bytes that arrived in order. Returns how many further
    /// bytes held here are now contiguous (RCV.NXT moves past them too) and rebases the rest.
    mutating func advance(by length: Int) -> Int {
        var reach = length
        var absorbed = 0
        while absorbed < ranges.count && ranges[absorbed].lowerBound <= reach {
            reach = max(reach, ranges[absorbed].upperBound)
            absorbed += 1
        }
        ranges.removeFirst(absorbed)
        for index in ranges.indices {
            ranges[index] = (ranges[index].lowerBound - reach)..<(ranges[index].upperBound - reach)
        }
        return reach - length
    }

    /// The highest offset held: data the receive window must keep room for.
    var upperBound: Int { ranges.last?.upperBound ?? 0 }

    mutating func removeAll() { ranges.removeAll(keepingCapacity: true) }
}
