// ns per TCP data segment in ApusNet, sender and receiver measured apart:
//   send:    application write of one MSS + poll that emits the segment
//   receive: the segment received, read by the application, ACK emitted and fed back
// Prints `net op=<send|receive> ns=<f> segments=<n>` (best of 3 runs of --seconds each),
// for scripts/bench.sh tcp.
import ApusNet
import NetBenchSupport
#if canImport(Glibc)
import Glibc
#endif

var seconds = 1.0
var arguments = CommandLine.arguments.dropFirst()[...]
while let argument = arguments.popFirst() {
    if argument == "--seconds", let value = arguments.popFirst().flatMap(Double.init), value > 0 { seconds = value } else {
        print("usage: NetCompare [--seconds S]")
        exit(2)
    }
}

@inline(__always) func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

// What reading the clock itself costs, subtracted from every half.
var overhead = UInt64.max
for _ in 0..<5 {
    let start = now()
    for _ in 0..<100_000 { _ = now() }
    overhead = min(overhead, (now() - start) / 100_000)
}

var pump = SegmentPump()
var best: (send: Double, receive: Double) = (.infinity, .infinity)
var total = 0
for _ in 0..<3 {
    var sendTime: UInt64 = 0, receiveTime: UInt64 = 0, segments = 0, bytes = 0
    let end = now() + UInt64(seconds * 1e9)
    while now() < end {
        for _ in 0..<1000 {
            let a = now()
            segments += pump.sendSegment()
            let b = now()
            bytes += pump.receiveAndAcknowledge()
            let c = now()
            sendTime += (b - a) &- overhead
            receiveTime += (c - b) &- overhead
        }
    }
    precondition(bytes == segments * pump.segmentSize, "lost bytes: \(bytes) of \(segments * pump.segmentSize)")
    best.send = min(best.send, Double(sendTime) / Double(segments))
    best.receive = min(best.receive, Double(receiveTime) / Double(segments))
    total += segments
}
print("net op=send ns=\((best.send * 10).rounded() / 10) segments=\(total)")
print("net op=receive ns=\((best.receive * 10).rounded() / 10) segments=\(total)")
