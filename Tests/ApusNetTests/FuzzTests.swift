@testable import ApusNet
import ApusTesting
import ApusWire
import Testing

/// Bounded, seeded fuzzing of the receive path: random and mutated frames
/// into a stack with a listener, an established connection and a UDP
/// endpoint. The assertion is that nothing traps (tests are a debug build,
/// where overflow and out-of-bounds access crash) and the stack still works.
@Suite struct FuzzTests {
    static func seedFrames(_ t: TCPHarness) -> [[UInt8]] {
        [
            Fixtures.arpRequestFrame, Fixtures.echoRequestFrame, Fixtures.udpFrame,
            Frame.tcp(t.remote(seq: t.remoteISN + 1, ack: t.localISN + 1), payload: pattern(40)),
            Frame.tcp(t.remote(seq: SequenceNumber(77), flags: .syn,
                               options: TCPOptions(maximumSegmentSize: 1460, windowScale: 7,
                                                   timestamps: TCPTimestamps(value: 1, echoReply: 0)))),
            Frame.tcp(t.remote(seq: t.remoteISN + 1, ack: t.localISN + 1, flags: .fin)),
        ]
    }

    @Test func mutatedAndRandomFramesNeverCrash() {
        var t = TCPHarness(timestamps: true, windowScaling: true)
        t.acceptConnection()
        _ = try! t.stack.bindUDP(port: 9090)
        let seeds = Self.seedFrames(t)
        var random = SeededRandom(seed: 0xF022)
        for round in 0..<4000 {
            var frame: [UInt8]
            if round % 4 == 0 {
                frame = (0..<Int.random(in: 0...120, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                if frame.count > 14 { frame.replaceSubrange(0..<6, with: [0x02, 0, 0, 0, 0, 0x01]) }
                if frame.count > 14 && random.chance(0.7) { frame[12] = 0x08; frame[13] = random.chance(0.8) ? 0x00 : 0x06 }
                if frame.count > 34 && random.chance(0.7) { frame[14] = 0x45 }
            } else {
                frame = seeds[Int.random(in: 0..<seeds.count, using: &random)]
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    guard !frame.isEmpty else { break }
                    let index = Int.random(in: 14..<max(15, frame.count), using: &random) % frame.count
                    switch Int.random(in: 0...3, using: &random) {
                    case 0: frame[index] ^= UInt8.random(in: 1...255, using: &random)
                    case 1: frame.removeLast(Int.random(in: 0...min(frame.count, 20), using: &random))
                    case 2: frame += [UInt8](repeating: UInt8.random(in: 0...255, using: &random), count: 7)
                    default: frame[index] = [0x00, 0xFF, 0x7F, 0x80][Int.random(in: 0...3, using: &random)]
                    }
                }
            }
            t.stack.receive(frame, at: t.now)
            if round % 16 == 0 {
                t.advance(by: .milliseconds(Int64.random(in: 0...300, using: &random)))
                _ = t.poll()
                _ = t.stack.drainEvents()
            }
        }
        #expect(t.stack.statistics.framesReceived == 4000 + 2, "plus the handshake")
    }

    @Test func fuzzedTCPHeadersIntoEstablishedConnection() {
        var t = TCPHarness()
        t.acceptConnection()
        var random = SeededRandom(seed: 0x7C9)
        for _ in 0..<3000 {
            var flags = TCPFlags(rawValue: UInt8.random(in: 0...0x3F, using: &random))
            if random.chance(0.5) { flags.remove(.syn) }
            let seq = t.remoteISN + Int.random(in: -70_000...70_000, using: &random)
            let ack = t.localISN + Int.random(in: -70_000...70_000, using: &random)
            let segment = TCPRepr(sourcePort: TCPHarness.remotePort, destinationPort: TCPHarness.localPort,
                                  sequenceNumber: seq, acknowledgmentNumber: ack, flags: flags,
                                  windowSize: UInt16.random(in: 0...UInt16.max, using: &random))
            t.send(segment, payload: pattern(Int.random(in: 0...1460, using: &random)))
            if random.chance(0.1), let handle = t.handle, t.stack.state(of: handle) != nil {
                _ = t.write(pattern(Int.random(in: 0...5000, using: &random)))
                _ = t.read()
            }
            t.advance(by: .milliseconds(Int64.random(in: 0...50, using: &random)))
            _ = t.poll()
        }
        #expect(t.stack.statistics.tcpSegmentsReceived == 3000 + 2, "plus the handshake")
    }
}
