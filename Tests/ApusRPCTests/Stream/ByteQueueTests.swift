import Testing
@testable import ApusRPC

struct ByteQueueTests {
    @Test func keepsBytesInOrderAcrossGrowthAndPartialRemoval() {
        var queue = ByteQueue()
        var expected: [UInt8] = []
        for round in 0..<50 {
            let chunk = (0..<(round * 37 + 1)).map { UInt8(truncatingIfNeeded: $0 + round) }
            chunk.withUnsafeBytes { queue.append($0) }
            expected += chunk
            let drop = min(expected.count, round * 11)
            queue.removeFirst(drop)
            expected.removeFirst(drop)
            let bytes = Array(queue.readable)
            #expect(bytes == expected)
        }
    }

    @Test func growthFollowsTheBytesStoredAndStopsAtTheLimit() {
        var queue = ByteQueue()
        let chunk = [UInt8](repeating: 7, count: 1448)
        let announced = 1 << 20
        chunk.withUnsafeBytes { queue.append($0, limit: announced) }
        // One segment in: memory for about one segment, not for the megabyte announced.
        let early = queue.capacity
        #expect(early < 4096)
        while queue.count + chunk.count <= announced { chunk.withUnsafeBytes { queue.append($0, limit: announced) } }
        let late = queue.capacity
        #expect(late == announced)
    }

    @Test func anEmptiedQueueGivesLargeMemoryBack() {
        var queue = ByteQueue()
        queue.append(length: 1 << 20) { $0.count }
        let count = queue.count
        #expect(count == 1 << 20)
        queue.removeFirst(1 << 20)
        let (empty, capacity) = (queue.isEmpty, queue.capacity)
        #expect(empty)
        #expect(capacity == 0)
    }
}
