import ApusWire

/// A bound UDP port and the datagrams it holds for the application.
struct UDPEndpoint {
    struct Datagram {
        var payload: [UInt8]
        var source: UDPSource
    }

    var queue: [Datagram] = []
    var queueStart = 0

    var queuedCount: Int { queue.count - queueStart }

    mutating func pop() -> Datagram? {
        guard queueStart < queue.count else { return nil }
        let datagram = queue[queueStart]
        queueStart += 1
        if queueStart == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueStart = 0
        }
        return datagram
    }
}
