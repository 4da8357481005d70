import ApusXSK
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One queue's outcome, in the `key=value` form scripts parse.
struct QueueResult: Sendable {
    var queue: UInt32
    var cpu: Int
    var received = 0
    var reflected = 0
    var arpReplies = 0
    var dropped = 0
    var rxDropped: UInt64 = 0
    var rxRingFull: UInt64 = 0
    var frames: FrameAccounting

    var summary: String {
        "received=\(received) reflected=\(reflected) arp_replies=\(arpReplies) dropped=\(dropped)"
            + " rx_dropped=\(rxDropped) rx_ring_full=\(rxRingFull) \(frames)"
    }

    /// All queues added up (frame counts too: each queue has its own UMEM).
    static func total(_ results: [QueueResult]) -> String {
        var sum = QueueResult(queue: 0, cpu: 0, frames: FrameAccounting(total: 0, free: 0, fill: 0, rx: 0, tx: 0, completion: 0))
        for result in results {
            sum.received += result.received
            sum.reflected += result.reflected
            sum.arpReplies += result.arpReplies
            sum.dropped += result.dropped
            sum.rxDropped += result.rxDropped
            sum.rxRingFull += result.rxRingFull
            sum.frames.total += result.frames.total
            sum.frames.free += result.frames.free
            sum.frames.fill += result.frames.fill
            sum.frames.rx += result.frames.rx
            sum.frames.tx += result.frames.tx
            sum.frames.completion += result.frames.completion
        }
        return sum.summary
    }
}

/// What the queue threads of one `apus xdp reflect` share: a stop flag, the
/// reflected total for --count, and their results. Nothing here is touched per packet.
final class ReflectRun: Sendable {
    let stop = Atomic<Bool>(false)
    let limit: Int
    let reflected = Atomic<Int>(0)
    let results = Mutex<[QueueResult]>([])

    init(limit: Int) { self.limit = limit }

    var limitReached: Bool { limit > 0 && reflected.load(ordering: .relaxed) >= limit }

    /// One queue's run-to-completion loop, on its pinned thread.
    func serve(_ box: XSKSocketBox, reflector: UDPReflector, interface: String, cpu: Int) {
        var socket = box.take()
        var reflector = reflector
        let queue = socket.queue
        socket.refill(maximum: socket.fill.memory.size)
        var nextReport = ContinuousClock.now
        var counted = 0
        while !stop.load(ordering: .relaxed) {
            if reflector.step(&socket) == 0 {
                // Idle: busy polling drives the driver from this syscall; otherwise sleep until packets arrive.
                if socket.isBusyPolling { socket.kickReceive() } else { socket.waitForPackets(milliseconds: 10) }
            }
            if limit > 0, reflector.reflected != counted {
                reflected.add(reflector.reflected - counted, ordering: .relaxed)
                counted = reflector.reflected
            }
            let now = ContinuousClock.now
            if now >= nextReport {
                nextReport = now + .seconds(1)
                XSKStatusFile.write(interface: interface, queue: queue, fields: Self.fields(reflector, &socket))
            }
        }
        // Let outstanding sends complete so frame accounting is exact.
        for _ in 0..<100 where socket.tx.outstanding > 0 || socket.completion.pending > 0 {
            socket.kickTransmit()
            socket.reapCompletions(maximum: .max)
            usleep(1000)
        }
        socket.reapCompletions(maximum: .max)
        let kernel = try? socket.statistics()
        let result = QueueResult(
            queue: queue, cpu: cpu, received: reflector.received, reflected: reflector.reflected, arpReplies: reflector.arpReplies,
            dropped: reflector.dropped, rxDropped: kernel?.rx_dropped ?? 0, rxRingFull: kernel?.rx_ring_full ?? 0,
            frames: socket.frameAccounting)
        XSKStatusFile.remove(interface: interface, queue: queue)
        results.withLock { $0.append(result) }
    }

    static func fields(_ reflector: UDPReflector, _ socket: inout XSKSocket) -> [(String, String)] {
        let kernel = try? socket.statistics()
        let frames = socket.frameAccounting
        return [
            ("received", "\(reflector.received)"), ("reflected", "\(reflector.reflected)"), ("dropped", "\(reflector.dropped)"),
            ("rx_dropped", "\(kernel?.rx_dropped ?? 0)"), ("rx_ring_full", "\(kernel?.rx_ring_full ?? 0)"),
            ("rx_invalid_descs", "\(kernel?.rx_invalid_descs ?? 0)"), ("tx_invalid_descs", "\(kernel?.tx_invalid_descs ?? 0)"),
            ("fill_ring_empty", "\(kernel?.rx_fill_ring_empty_descs ?? 0)"), ("tx_ring_empty", "\(kernel?.tx_ring_empty_descs ?? 0)"),
            ("mode", socket.isZeroCopy ? "zero-copy" : "copy"), ("frames_free", "\(frames.free)"), ("frames_in_fill", "\(frames.fill)"),
            ("frames_in_app", "\(frames.application)"),
        ]
    }
}
