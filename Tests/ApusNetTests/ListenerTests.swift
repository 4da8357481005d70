@testable import ApusNet
import ApusTesting
import ApusWire
import Testing

/// Listen backlog, SYN cookies (RFC 4987), table and memory limits.
@Suite struct ListenerTests {
    static let secondPort: UInt16 = 49_501

    func syn(_ t: TCPHarness, port: UInt16, seq: SequenceNumber = SequenceNumber(5000)) -> TCPRepr {
        TCPRepr(sourcePort: port, destinationPort: TCPHarness.localPort, sequenceNumber: seq, flags: .syn,
                windowSize: 65_535, options: TCPOptions(maximumSegmentSize: 1400))
    }

    @Test func fullBacklogDropsSYNWithoutCookies() {
        var t = TCPHarness { $0.tcp.synCookies = false }
        try! t.stack.listen(on: TCPHarness.localPort, backlog: 1)
        t.send(t.remote(seq: t.remoteISN, flags: .syn))
        _ = t.poll()
        t.send(syn(t, port: Self.secondPort))
        t.expectNothing()
        #expect(t.stack.statistics.tcpListenDrops == 1)
        #expect(t.stack.connectionCount == 1)
    }

    @Test func fullBacklogAnswersWithCookie() {
        var t = TCPHarness()
        try! t.stack.listen(on: TCPHarness.localPort, backlog: 1)
        t.send(t.remote(seq: t.remoteISN, flags: .syn))
        _ = t.poll()
        t.send(syn(t, port: Self.secondPort))
        let sent = t.poll()
        #expect(sent.count == 1)
        #expect(sent.first?.0.flags == [.syn, .ack])
        #expect(sent.first?.0.acknowledgmentNumber == SequenceNumber(5001))
        #expect(sent.first?.0.options == TCPOptions(maximumSegmentSize: 1460))
        #expect(t.stack.connectionCount == 1, "no state kept for the cookie")
        #expect(t.stack.statistics.tcpSYNCookiesSent == 1)
    }

    /// A flood fills the backlog with half-open connections that never complete. Once the
    /// listener overflows they get one SYN,ACK retransmission (1 s) and are gone 2 s later,
    /// instead of holding the backlog for the ~2 minutes of six retransmissions.
    @Test func halfOpenConnectionsExpireFastOnceTheListenerOverflows() {
        var t = TCPHarness()
        try! t.stack.listen(on: TCPHarness.localPort, backlog: 2)
        t.send(syn(t, port: 40_001))
        t.send(syn(t, port: 40_002))
        #expect(t.poll().count == 2)
        t.send(syn(t, port: 40_003))
        #expect(t.stack.statistics.tcpSYNCookiesSent == 1)
        _ = t.poll()
        t.advance(by: .seconds(1))
        #expect(t.poll().count == 2, "one retransmission each")
        t.advance(by: .seconds(2))
        #expect(t.poll().isEmpty)
        #expect(t.stack.connectionCount == 0)
        #expect(t.takeEvents().isEmpty, "never accepted, so never reported")
        // The backlog has room again.
        t.send(syn(t, port: 40_004))
        #expect(t.stack.connectionCount == 1)
    }

    @Test func halfOpenConnectionsRetransmitFullyWithoutOverflow() {
        var t = TCPHarness()
        try! t.stack.listen(on: TCPHarness.localPort, backlog: 2)
        t.send(syn(t, port: 40_001))
        _ = t.poll()
        t.advance(by: .seconds(3))
        _ = t.poll()
        #expect(t.stack.connectionCount == 1)
    }

    @Test func cookieRoundTripEstablishesConnection() {
        var t = TCPHarness()
        try! t.stack.listen(on: TCPHarness.localPort, backlog: 1)
        t.send(t.remote(seq: t.remoteISN, flags: .syn))
        _ = t.poll()
        t.send(syn(t, port: Self.secondPort))
        let cookie = t.poll()[0].0.sequenceNumber
        let ack = TCPRepr(sourcePort: Self.secondPort, destinationPort: TCPHarness.localPort, sequenceNumber: SequenceNumber(5001),
                          acknowledgmentNumber: cookie + 1, flags: .ack, windowSize: 65_535)
        t.send(ack, payload: pattern(20))
        let events = t.takeEvents()
        guard case .accepted(let handle, 80)? = events.first else { Issue.record("no accept: \(events)"); return }
        #expect(events == [.accepted(handle, localPort: 80), .readable(handle)])
        #expect(t.stack.state(of: handle) == .established)
        #expect(t.stack.statistics.tcpSYNCookiesAccepted == 1)
        let index = t.stack.index(of: handle)!
        #expect(t.stack.connections[index]!.sendMSS == 1400, "the MSS came back in the cookie")
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { try! t.stack.read(from: handle, into: $0, at: t.now) }
        #expect(Array(buffer[..<count]) == pattern(20))
        _ = [UInt8](repeating: 1, count: 10).withUnsafeBytes { try! t.stack.write($0, to: handle, at: t.now) }
        let reply = t.poll()
        #expect(reply.map(\.0.sequenceNumber) == [cookie + 1])
        #expect(reply.map(\.0.acknowledgmentNumber) == [SequenceNumber(5021)])
        #expect(reply.map(\.1.count) == [10])
    }

    @Test func forgedCookieIsReset() {
        var t = TCPHarness()
        try! t.stack.listen(on: TCPHarness.localPort, backlog: 1)
        let ack = TCPRepr(sourcePort: Self.secondPort, destinationPort: TCPHarness.localPort, sequenceNumber: SequenceNumber(5001),
                          acknowledgmentNumber: SequenceNumber(0x1234_5678), flags: .ack, windowSize: 65_535)
        t.send(ack)
        let sent = t.poll()
        #expect(sent.map(\.0.flags) == [.rst])
        #expect(t.stack.connectionCount == 0)
    }

    /// The cookie the harness's stack would send for a SYN from `port` with sequence 5000, at `now`.
    func genuineCookie(_ t: TCPHarness, port: UInt16) -> SequenceNumber {
        let tuple = TCPFourTuple(localAddress: Host.localIP, localPort: TCPHarness.localPort, remoteAddress: Host.remoteIP, remotePort: port)
        return SYNCookie(secret: (1, 2)).make(tuple: tuple, peerSequence: SequenceNumber(5000), peerMSS: 1400, at: t.now)
    }

    func cookieACK(_ cookie: SequenceNumber, port: UInt16) -> TCPRepr {
        TCPRepr(sourcePort: port, destinationPort: TCPHarness.localPort, sequenceNumber: SequenceNumber(5001),
                acknowledgmentNumber: cookie + 1, flags: .ack, windowSize: 65_535)
    }

    @Test func aGenuineCookieIsRefusedWhenNoCookiesWereSentRecently() {
        // Whoever knows the key could forge this; even so, outside cookie mode a bare ACK opens nothing.
        var t = TCPHarness()
        try! t.stack.listen(on: TCPHarness.localPort, backlog: 8)
        t.send(cookieACK(genuineCookie(t, port: Self.secondPort), port: Self.secondPort), payload: pattern(5))
        #expect(t.poll().map(\.0.flags) == [.rst])
        #expect(t.stack.connectionCount == 0)
        #expect(t.takeEvents().isEmpty)
        #expect(t.stack.statistics.tcpSYNCookiesAccepted == 0)
    }

    @Test func cookieModeEndsWhenTheCookiesItSentExpire() {
        var t = TCPHarness()
        try! t.stack.listen(on: TCPHarness.localPort, backlog: 1)
        t.send(t.remote(seq: t.remoteISN, flags: .syn))
        _ = t.poll()
        t.send(syn(t, port: Self.secondPort))
        #expect(t.poll().map(\.0.flags) == [[.syn, .ack]])  // a cookie: cookie mode on
        t.advance(by: .seconds(129))
        t.send(cookieACK(genuineCookie(t, port: Self.secondPort), port: Self.secondPort))
        #expect(t.poll().map(\.0.flags).contains([.rst]))
        #expect(t.stack.statistics.tcpSYNCookiesAccepted == 0)
    }

    @Test func aFullConnectionTableAnswersSYNsWithCookiesNotSilence() {
        var t = TCPHarness { $0.maximumConnections = 1 }
        try! t.stack.listen(on: TCPHarness.localPort, backlog: 100)
        #expect(t.stack.listeners[TCPHarness.localPort]?.backlog == 1, "the backlog fits the table")
        t.acceptConnectionOnExistingListener()
        t.send(syn(t, port: Self.secondPort))
        #expect(t.poll().map(\.0.flags) == [[.syn, .ack]])
        #expect(t.stack.statistics.tcpSYNCookiesSent == 1)
        #expect(t.stack.statistics.tcpListenDrops == 0)
    }

    @Test func everyConfigurationGetsItsOwnRandomSecret() {
        let a = NetStackConfiguration(interface: Host.configuration().interface).secret
        let b = NetStackConfiguration(interface: Host.configuration().interface).secret
        #expect(a != b)
        #expect(a != (0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210), "not the old public constant")
    }

    @Test func staleCookieIsRejected() {
        let cookies = SYNCookie(secret: (1, 2))
        let tuple = TCPFourTuple(localAddress: Host.localIP, localPort: 80, remoteAddress: Host.remoteIP, remotePort: 1234)
        let cookie = cookies.make(tuple: tuple, peerSequence: SequenceNumber(9), peerMSS: 1460, at: .seconds(100))
        #expect(cookies.validate(cookie, tuple: tuple, peerSequence: SequenceNumber(9), at: .seconds(150)) == 1460)
        #expect(cookies.validate(cookie, tuple: tuple, peerSequence: SequenceNumber(9), at: .seconds(300)) == nil)
        var other = tuple
        other.remotePort = 1235
        #expect(cookies.validate(cookie, tuple: other, peerSequence: SequenceNumber(9), at: .seconds(100)) == nil)
    }

    @Test func completedHandshakeFreesBacklogSlot() {
        var t = TCPHarness { $0.tcp.synCookies = false }
        try! t.stack.listen(on: TCPHarness.localPort, backlog: 1)
        t.acceptConnectionOnExistingListener()
        t.send(syn(t, port: Self.secondPort))
        #expect(t.poll().map(\.0.flags) == [[.syn, .ack]])
        #expect(t.stack.listeners[TCPHarness.localPort]?.halfOpen == 1)
    }

    @Test func connectionLimitIsEnforced() {
        var t = TCPHarness { $0.maximumConnections = 1 }
        _ = try! t.stack.connect(to: Host.remoteIP, port: 1, at: t.now)
        #expect(throws: NetError(.connectionLimit, "tcp connect")) {
            try t.stack.connect(to: Host.remoteIP, port: 2, at: t.now)
        }
    }

    @Test func bufferMemoryLimitIsEnforced() {
        var t = TCPHarness { $0.maximumBufferMemory = NetStack.connectionOverhead * 3 / 2 }
        _ = try! t.stack.connect(to: Host.remoteIP, port: 1, at: t.now)
        #expect(throws: NetError(.memoryLimit, "tcp connect")) {
            try t.stack.connect(to: Host.remoteIP, port: 2, at: t.now)
        }
    }

    @Test func memoryIsReturnedWhenConnectionCloses() {
        var t = TCPHarness { $0.maximumBufferMemory = NetStack.connectionOverhead }
        let first = try! t.stack.connect(to: Host.remoteIP, port: 1, at: t.now)
        try! t.stack.abort(first, at: t.now)
        #expect(t.stack.bufferMemoryInUse == 0)
        _ = try! t.stack.connect(to: Host.remoteIP, port: 2, at: t.now)
    }

    @Test func listenerRejectsSecondBind() {
        var t = TCPHarness()
        try! t.stack.listen(on: 80)
        #expect(throws: NetError(.addressInUse, "tcp listen")) { try t.stack.listen(on: 80) }
    }

    @Test func ephemeralPortsAreDistinct() {
        var t = TCPHarness()
        let a = try! t.stack.connect(to: Host.remoteIP, port: 9090, at: t.now)
        let b = try! t.stack.connect(to: Host.remoteIP, port: 9090, at: t.now)
        let portA = t.stack.endpoints(of: a)!.localPort
        let portB = t.stack.endpoints(of: b)!.localPort
        #expect(portA != portB)
        #expect((49152...65535).contains(portA) && (49152...65535).contains(portB))
    }

    @Test func stateChangesAreTraced() {
        final class Log: @unchecked Sendable { var changes: [TCPStateChange] = [] }
        let log = Log()
        var t = TCPHarness { $0.tcpTrace = { log.changes.append($0) } }
        t.acceptConnection()
        #expect(log.changes.map(\.to) == [.synReceived, .established])
        #expect(log.changes.first?.from == .closed)
    }
}

extension TCPHarness {
    /// `acceptConnection` for a test that already called `listen`.
    mutating func acceptConnectionOnExistingListener() {
        send(remote(seq: remoteISN, flags: .syn, options: TCPOptions(maximumSegmentSize: 1460)))
        _ = poll()
        send(remote(seq: remoteISN + 1, ack: localISN + 1))
        if case .accepted(let handle, _)? = takeEvents().first { self.handle = handle }
    }
}
