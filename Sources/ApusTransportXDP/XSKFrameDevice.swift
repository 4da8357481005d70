import ApusNet
import ApusXSK
#if canImport(Glibc)
import Glibc
#endif

/// One AF_XDP queue as a `FrameDevice`: received frames are lent to the
/// stack straight from the UMEM and go back to the fill ring; frames the
/// stack sends are written in place into free UMEM frames on the TX ring.
///
/// Frame budget: the fill ring never takes the last `transmitReserve`
/// frames, so replies always find a TX frame even while the link is busy.
public struct XSKFrameDevice: FrameDevice, ~Copyable {
    package var socket: XSKSocket
    /// Free frames kept back from the fill ring for sending.
    public let transmitReserve: Int
    /// TX descriptors written since the last flush.
    var unsubmitted: UInt32 = 0
    public private(set) var statistics = Statistics()

    public struct Statistics: Sendable, Hashable {
        public var received = 0
        public var transmitted = 0
        /// `transmit` found no free frame or TX slot; the stack retries on a later poll.
        public var transmitBlocked = 0
    }

    public init(socket: consuming XSKSocket, transmitReserve: Int? = nil) {
        let frames = Int(socket.umem.frameCount)
        self.transmitReserve = transmitReserve ?? frames / 4
        self.socket = socket
        refill()
    }

    public var frameAccounting: FrameAccounting { socket.frameAccounting }

    public mutating func receive(at now: NetInstant, maximum: Int, _ body: (UnsafeRawBufferPointer) -> Void) -> Int {
        // Every sent frame back, not 64 a pass: a pass that sends more than it reaps (ACKs and
        // requests on 10,000 connections) strands frames in the completion ring, the free pool
        // sinks under the transmit reserve, the fill ring runs dry and the kernel drops.
        socket.reapCompletions(maximum: .max)
        let (count, index) = socket.rx.peek(UInt32(clamping: maximum))
        for offset in 0..<count {
            let descriptor = socket.rx.entry(index &+ offset)
            body(UnsafeRawBufferPointer(socket.umem.packet(at: descriptor.address, length: Int(descriptor.length))))
            socket.umem.free(descriptor.address)
        }
        if count > 0 {
            socket.rx.release()
            statistics.received += Int(count)
        }
        refill()
        return Int(count)
    }

    public mutating func transmit(maximumLength: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) -> Bool {
        let frameSize = Int(socket.umem.frameSize)
        guard maximumLength <= frameSize else { return false }
        if socket.umem.freeCount == 0 { socket.reapCompletions(maximum: .max) }
        guard let address = socket.umem.allocate() else {
            statistics.transmitBlocked += 1
            return false
        }
        guard let slot = socket.tx.reserve(1) else {
            socket.umem.free(address)
            statistics.transmitBlocked += 1
            return false
        }
        let length = write(socket.umem.packet(at: address, length: frameSize))
        guard length > 0 else {
            // Nothing to send after all: the reserved slot carries a zero-length
            // descriptor the kernel rejects, so give the frame back instead.
            socket.tx.unreserve(1)
            socket.umem.free(address)
            return true
        }
        socket.tx.slot(slot).pointee = XDPDescriptor(address: address, length: UInt32(length))
        unsubmitted += 1
        statistics.transmitted += 1
        return true
    }

    public mutating func flush(at now: NetInstant) {
        if unsubmitted > 0 {
            socket.tx.submit()
            unsubmitted = 0
        }
        // Copy mode sends at most 32 descriptors per kick: kick again while the kernel keeps
        // taking them, rather than leave the rest in the ring until the next pass (which may be
        // after a sleep). Zero copy needs one kick, and only when the driver asks.
        if socket.isZeroCopy {
            if socket.tx.outstanding > 0 && socket.tx.needsWakeup { socket.kickTransmit() }
        } else {
            var before = socket.tx.outstanding
            var kicks = 0
            while before > 0 && kicks < 64 {
                socket.kickTransmit()
                kicks += 1
                let after = socket.tx.outstanding
                if after == before { break }  // the device takes no more now: retry on a later pass
                before = after
            }
        }
        if socket.fill.needsWakeup { socket.kickReceive() }
    }

    public var nextDeadline: NetInstant { .distantFuture }

    public mutating func wait(until deadline: NetInstant, now: NetInstant) {
        guard deadline > now else { return }
        if socket.isBusyPolling {
            socket.kickReceive()
            return
        }
        // Frames the device could not take yet: try again soon, not after a millisecond.
        let cap: UInt64 = socket.tx.outstanding > 0 ? 50_000 : 100_000_000
        socket.waitForPackets(nanoseconds: min(deadline.nanoseconds - now.nanoseconds, cap))
    }

    mutating func refill() {
        let spare = socket.umem.freeCount - transmitReserve
        if spare > 0 { socket.refill(maximum: UInt32(clamping: spare)) }
    }
}
