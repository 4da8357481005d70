@testable import ApusNet
import ApusTesting
import ApusWire
import Testing

/// MSS, window scale and timestamp negotiation (RFC 9293 §3.7.1, RFC 7323).
@Suite struct OptionTests {
    @Test func mssDefaultsTo536WithoutOption() {
        var t = TCPHarness()
        t.acceptConnection(synOptions: TCPOptions())
        #expect(t.connection?.sendMSS == 536)
        _ = t.write(pattern(1000))
        #expect(t.poll().map(\.1.count) == [536, 464])
    }

    @Test func smallerPeerMSSLimitsSegments() {
        var t = TCPHarness()
        t.acceptConnection(synOptions: TCPOptions(maximumSegmentSize: 1000))
        _ = t.write(pattern(1500))
        #expect(t.poll().map(\.1.count) == [1000, 500])
    }

    @Test func windowScaleIsAgreedWhenBothOffer() {
        var t = TCPHarness(windowScaling: true) { $0.tcp.receiveBufferSize = 256 * 1024 }
        try! t.stack.listen(on: TCPHarness.localPort)
        t.send(t.remote(seq: t.remoteISN, flags: .syn, options: TCPOptions(maximumSegmentSize: 1460, windowScale: 7)))
        t.expect(t.local(seq: t.localISN, ack: t.remoteISN + 1, flags: .syn, window: 65_535,
                         options: TCPOptions(maximumSegmentSize: 1460, windowScale: 3)))
        t.send(t.remote(seq: t.remoteISN + 1, ack: t.localISN + 1, window: 100))
        #expect(t.connection?.sendWindow == 100 << 7)
        t.send(t.remote(seq: t.remoteISN + 1, ack: t.localISN + 1), payload: pattern(8))
        t.advance(by: .milliseconds(40))
        t.expect(t.local(seq: t.localISN + 1, ack: t.remoteISN + 9, window: UInt16((256 * 1024 - 8) >> 3)))
    }

    @Test func windowScaleIsNotUsedWhenPeerDoesNotOffer() {
        var t = TCPHarness(windowScaling: true) { $0.tcp.receiveBufferSize = 256 * 1024 }
        try! t.stack.listen(on: TCPHarness.localPort)
        t.send(t.remote(seq: t.remoteISN, flags: .syn, options: TCPOptions(maximumSegmentSize: 1460)))
        t.expect(t.local(seq: t.localISN, ack: t.remoteISN + 1, flags: .syn, window: 65_535,
                         options: TCPOptions(maximumSegmentSize: 1460)))
        t.send(t.remote(seq: t.remoteISN + 1, ack: t.localISN + 1, window: 100))
        #expect(t.connection?.sendWindow == 100)
        #expect(t.connection?.advertisedWindowField == 65_535)
    }

    @Test func activeOpenAppliesPeerWindowScale() {
        var t = TCPHarness(windowScaling: true)
        t.openConnection(synAckOptions: TCPOptions(maximumSegmentSize: 1460, windowScale: 2))
        t.send(t.remote(seq: t.remoteISN + 1, ack: t.localISN + 1, window: 1000))
        #expect(t.connection?.sendWindow == 4000)
    }

    @Test func timestampsAreEchoed() {
        var t = TCPHarness(timestamps: true)
        try! t.stack.listen(on: TCPHarness.localPort)
        var options = TCPOptions(maximumSegmentSize: 1460)
        options.timestamps = TCPTimestamps(value: 777, echoReply: 0)
        t.send(t.remote(seq: t.remoteISN, flags: .syn, options: options))
        var synAckOptions = TCPOptions(maximumSegmentSize: 1460)
        synAckOptions.timestamps = TCPTimestamps(value: t.now.timestampClock, echoReply: 777)
        t.expect(t.local(seq: t.localISN, ack: t.remoteISN + 1, flags: .syn, options: synAckOptions))
        var ackOptions = TCPOptions()
        ackOptions.timestamps = TCPTimestamps(value: 778, echoReply: t.now.timestampClock)
        t.send(t.remote(seq: t.remoteISN + 1, ack: t.localISN + 1, options: ackOptions), payload: pattern(10))
        t.advance(by: .milliseconds(40))
        var expected = TCPOptions()
        expected.timestamps = TCPTimestamps(value: t.now.timestampClock, echoReply: 778)
        t.expect(t.local(seq: t.localISN + 1, ack: t.remoteISN + 11, window: 32_758, options: expected))
        #expect(t.connection?.sendMSS == 1448, "12 bytes of every segment carry the timestamps")
    }

    @Test func timestampsNeedBothSides() {
        var t = TCPHarness(timestamps: true)
        t.acceptConnection()
        #expect(t.connection?.timestampsEnabled == false)
        #expect(t.connection?.sendMSS == 1460)
    }

    @Test func pawsRejectsOlderTimestamp() {
        var t = TCPHarness(timestamps: true)
        try! t.stack.listen(on: TCPHarness.localPort)
        var options = TCPOptions(maximumSegmentSize: 1460)
        options.timestamps = TCPTimestamps(value: 5000, echoReply: 0)
        t.send(t.remote(seq: t.remoteISN, flags: .syn, options: options))
        _ = t.poll()
        var ackOptions = TCPOptions()
        ackOptions.timestamps = TCPTimestamps(value: 5001, echoReply: 0)
        t.send(t.remote(seq: t.remoteISN + 1, ack: t.localISN + 1, options: ackOptions))
        var old = TCPOptions()
        old.timestamps = TCPTimestamps(value: 4000, echoReply: 0)
        t.send(t.remote(seq: t.remoteISN + 1, ack: t.localISN + 1, options: old), payload: pattern(10))
        #expect(t.stack.bytesAvailable(on: t.handle ?? TCPHandle(index: 0, generation: 0)) == 0)
        #expect(t.connection?.receiveNext == t.remoteISN + 1)
        #expect(t.poll().count == 1, "answered with an ACK")
    }
}
