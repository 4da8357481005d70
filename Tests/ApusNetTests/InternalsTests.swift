@testable import ApusNet
import ApusWire
import Testing

@Suite struct ByteRingTests {
    var memory = BufferMemory(limit: 1 << 20)

    @Test mutating func appendAndConsumeWrapAround() {
        var ring = ByteRing(capacity: 8)
        _ = pattern(6).withUnsafeBytes { ring.append($0, memory: &memory) }
        ring.removeFirst(5)
        let appended = pattern(6, offset: 6).withUnsafeBytes { ring.append($0, memory: &memory) }
        #expect(appended == 6)
        #expect(ring.count == 7)
        var out = [UInt8](repeating: 0, count: 7)
        out.withUnsafeMutableBytes { ring.copy(fromOffset: 0, into: $0) }
        #expect(out == pattern(7, offset: 5))
    }

    @Test mutating func appendStopsAtCapacity() {
        var ring = ByteRing(capacity: 4)
        let appended = pattern(10).withUnsafeBytes { ring.append($0, memory: &memory) }
        #expect(appended == 4)
        #expect(ring.freeSpace == 0)
    }

    @Test mutating func writePastTailThenCommit() {
        var ring = ByteRing(capacity: 8)
        #expect(ring.reserve(upTo: 5, memory: &memory))
        ([9, 9] as [UInt8]).withUnsafeBytes { ring.write($0, atOffsetPastTail: 3) }
        #expect(ring.count == 0)
        ([1, 2, 3] as [UInt8]).withUnsafeBytes { ring.write($0, atOffsetPastTail: 0) }
        ring.commit(5)
        var out = [UInt8](repeating: 0, count: 5)
        out.withUnsafeMutableBytes { ring.copy(fromOffset: 0, into: $0) }
        #expect(out == [1, 2, 3, 9, 9])
    }

    @Test mutating func inPlaceAccessIsContiguous() {
        var ring = ByteRing(capacity: 8)
        _ = pattern(6).withUnsafeBytes { ring.append($0, memory: &memory) }
        ring.removeFirst(6)
        let written = ring.appendInPlace(maximumLength: 100, memory: &memory) { space in
            #expect(space.count == 2, "only up to the end of storage")
            return space.count
        }
        #expect(written == 2)
        let consumed = ring.consumeInPlace { $0.count }
        #expect(consumed == 2)
    }

    @Test mutating func storageIsAllocatedOnlyWhenBytesArrive() {
        let ring = ByteRing(capacity: 256 * 1024)
        #expect(ring.allocated == 0)
        #expect(ring.freeSpace == 256 * 1024, "the window is the capacity, not what is allocated")
        #expect(memory.inUse == 0)
    }

    @Test mutating func growthKeepsReadableAndOutOfOrderBytesAtTheirOffsets() {
        let size = ByteRing.minimumStorage
        var ring = ByteRing(capacity: 8 * size)
        // Wrap the head: fill most of the first allocation, consume, then fill across the end.
        _ = pattern(size - 10).withUnsafeBytes { ring.append($0, memory: &memory) }
        ring.removeFirst(size - 20)
        _ = pattern(15, offset: 1).withUnsafeBytes { ring.append($0, memory: &memory) }  // wraps
        let readable = ring.count
        // Out-of-order bytes past the tail, then growth to reach a far offset.
        #expect(ring.reserve(upTo: readable + 8 + 3, memory: &memory))
        ([7, 7, 7] as [UInt8]).withUnsafeBytes { ring.write($0, atOffsetPastTail: 8) }
        #expect(ring.reserve(upTo: 3 * size, memory: &memory))
        #expect(ring.allocated == 4 * size, "doubles to the next power of two")
        #expect(memory.inUse == 4 * size)
        var before = [UInt8](repeating: 0, count: readable)
        before.withUnsafeMutableBytes { ring.copy(fromOffset: 0, into: $0) }
        #expect(before == Array(pattern(size - 10)[(size - 20)...]) + pattern(15, offset: 1))
        ring.commit(8 + 3)
        var tail = [UInt8](repeating: 0, count: 3)
        tail.withUnsafeMutableBytes { ring.copy(fromOffset: readable + 8, into: $0) }
        #expect(tail == [7, 7, 7])
    }

    @Test mutating func drainedRingGivesLargeStorageBack() {
        var ring = ByteRing(capacity: 1 << 20)
        _ = pattern(100_000).withUnsafeBytes { ring.append($0, memory: &memory) }
        #expect(ring.allocated == 131_072)
        ring.releaseIfDrained(memory: &memory)
        #expect(ring.allocated == 131_072, "not drained yet")
        ring.removeFirst(100_000)
        ring.releaseIfDrained(memory: &memory)
        #expect(ring.allocated == 0)
        #expect(memory.inUse == 0)
        // A small ring keeps its one allocation for the next message.
        _ = pattern(100).withUnsafeBytes { ring.append($0, memory: &memory) }
        ring.removeFirst(100)
        ring.releaseIfDrained(memory: &memory)
        #expect(ring.allocated == ByteRing.minimumStorage)
    }

    @Test func appendStopsAtTheBudget() {
        var memory = BufferMemory(limit: ByteRing.minimumStorage)
        var ring = ByteRing(capacity: 1 << 20)
        let appended = pattern(10_000).withUnsafeBytes { ring.append($0, memory: &memory) }
        #expect(appended == ByteRing.minimumStorage, "what the budget paid for")
        #expect(memory.inUse == memory.limit)
        var other = ByteRing(capacity: 1 << 20)
        #expect(!other.reserve(upTo: 1, memory: &memory))
    }
}

@Suite struct ReassemblyQueueTests {
    @Test func disjointRangesStaySorted() {
        var queue = ReassemblyQueue(maximumRanges: 4)
        _ = queue.insert(50..<60)
        _ = queue.insert(10..<20)
        #expect(queue.ranges == [10..<20, 50..<60])
    }

    @Test func touchingAndOverlappingRangesMerge() {
        var queue = ReassemblyQueue(maximumRanges: 4)
        _ = queue.insert(10..<20)
        _ = queue.insert(30..<40)
        _ = queue.insert(20..<30)
        #expect(queue.ranges == [10..<40])
        _ = queue.insert(5..<45)
        #expect(queue.ranges == [5..<45])
    }

    @Test func limitRejectsNewRangeButAllowsMerge() {
        var queue = ReassemblyQueue(maximumRanges: 1)
        let first = queue.insert(10..<20)
        let second = queue.insert(30..<40)
        let merged = queue.insert(15..<25)
        #expect(first && !second && merged)
        #expect(queue.ranges == [10..<25])
    }

    @Test func advanceJoinsContiguousDataAndRebases() {
        var queue = ReassemblyQueue(maximumRanges: 4)
        _ = queue.insert(10..<20)
        _ = queue.insert(30..<40)
        let joined = queue.advance(by: 10)
        #expect(joined == 10)
        #expect(queue.ranges == [10..<20])
    }

    @Test func advancePastSeveralRanges() {
        var queue = ReassemblyQueue(maximumRanges: 4)
        _ = queue.insert(5..<10)
        _ = queue.insert(20..<30)
        let joined = queue.advance(by: 25)
        #expect(joined == 5)
        #expect(queue.isEmpty)
    }
}

@Suite struct RTTEstimatorTests {
    var configuration: TCPConfiguration {
        var configuration = TCPConfiguration()
        configuration.minimumRTO = .milliseconds(1)
        return configuration
    }

    @Test func initialRTOIsOneSecond() {
        #expect(RTTEstimator(configuration: TCPConfiguration()).rto == .seconds(1))
    }

    @Test func firstSampleSetsSRTTAndHalfVariance() {
        var estimator = RTTEstimator(configuration: configuration)
        estimator.addSample(.milliseconds(100))
        #expect(estimator.smoothedRTT == .milliseconds(100))
        #expect(estimator.rttVariance == .milliseconds(50))
        #expect(estimator.rto == .milliseconds(300))
    }

    @Test func laterSamplesAreSmoothed() {
        var estimator = RTTEstimator(configuration: configuration)
        estimator.addSample(.milliseconds(100))
        estimator.addSample(.milliseconds(200))
        // RTTVAR = 3/4·50 + 1/4·100 = 62.5; SRTT = 7/8·100 + 1/8·200 = 112.5; RTO = 112.5 + 250.
        #expect(estimator.rttVariance == .microseconds(62_500))
        #expect(estimator.smoothedRTT == .microseconds(112_500))
        #expect(estimator.rto == .microseconds(362_500))
    }

    @Test func backoffDoublesUpToMaximum() {
        var estimator = RTTEstimator(configuration: TCPConfiguration())
        estimator.backoff = 3
        #expect(estimator.rto == .seconds(8))
        estimator.backoff = 20
        #expect(estimator.rto == .seconds(60))
    }
}

@Suite struct SipHashTests {
    /// Reference vectors of Aumasson and Bernstein's paper (key 00 01 ... 0f).
    static let key: (UInt64, UInt64) = (0x0706_0504_0302_0100, 0x0F0E_0D0C_0B0A_0908)

    @Test func emptyMessage() {
        #expect(SipHash.hash(key: Self.key) == 0x726F_DB47_DD0E_0E31)
    }

    @Test func eightByteMessage() {
        #expect(SipHash.hash(key: Self.key, 0x0706_0504_0302_0100) == 0x93F5_F579_9A93_2462)
    }
}

@Suite struct NetInstantTests {
    @Test func additionSaturates() {
        #expect(NetInstant.distantFuture + .seconds(1) == .distantFuture)
        #expect(NetInstant.milliseconds(5) + .milliseconds(-10) == .zero)
    }

    @Test func differenceIsSigned() {
        #expect(NetInstant.milliseconds(5) - .milliseconds(8) == .milliseconds(-3))
    }

    @Test func timestampClockCountsMilliseconds() {
        #expect(NetInstant.seconds(3).timestampClock == 3000)
    }
}

@Suite struct SubnetTests {
    @Test func containsAndBroadcast() {
        let subnet = IPv4Subnet(address: IPv4Address(10, 10, 0, 0), prefixLength: 24)
        #expect(subnet.contains(IPv4Address(10, 10, 0, 200)))
        #expect(!subnet.contains(IPv4Address(10, 10, 1, 1)))
        #expect(subnet.broadcast == IPv4Address(10, 10, 0, 255))
        #expect(IPv4Subnet(address: .any, prefixLength: 0).contains(IPv4Address(8, 8, 8, 8)))
    }
}
