@testable import ApusNet
import ApusWire
import Testing

/// Serving on a routed network: a client on another subnet reaches us through a router, whose
/// MAC is the SYN's link-layer source. Passive connections answer there at once (no ARP, no
/// gateway needed); active opens go through the gateway and resolve it by ARP.
@Suite struct RoutingTests {
    static let routerMAC = MACAddress(0x02, 0, 0, 0, 0, 0x0E)
    static let routerIP = IPv4Address(10, 10, 0, 254)
    static let farClient = IPv4Address(10, 20, 0, 2)

    static func syn(port: UInt16 = 40_000) -> TCPRepr {
        TCPRepr(sourcePort: port, destinationPort: 80, sequenceNumber: SequenceNumber(500), flags: .syn,
                windowSize: 65_535, options: TCPOptions(maximumSegmentSize: 1460))
    }

    @Test(arguments: [nil, routerIP])
    func aClientBehindARouterIsAnsweredThroughTheRouterWithoutARP(gateway: IPv4Address?) throws {
        var configuration = Host.configuration()
        configuration.interface.gateway = gateway
        var stack = NetStack(configuration: configuration)
        let now = NetInstant.seconds(10)
        try stack.listen(on: 80)
        stack.receive(Frame.tcp(Self.syn(), from: Self.farClient, macFrom: Self.routerMAC), at: now)
        let sent = try stack.pollFrames(at: now)
        #expect(sent.count == 1, "a SYN-ACK and nothing else (no ARP): \(sent)")
        let synAck = try #require(sent.first)
        #expect(synAck.tcp?.flags == [.syn, .ack])
        #expect(synAck.ethernet.destination == Self.routerMAC)
        #expect(synAck.ip?.destination == Self.farClient)

        // The handshake completes and data flows back the same way; an abort's RST too.
        let ack = TCPRepr(sourcePort: 40_000, destinationPort: 80, sequenceNumber: SequenceNumber(501),
                          acknowledgmentNumber: synAck.tcp!.sequenceNumber + 1, flags: .ack, windowSize: 65_535)
        stack.receive(Frame.tcp(ack, from: Self.farClient, macFrom: Self.routerMAC), at: now)
        let events = stack.drainEvents()
        guard case .accepted(let handle, _)? = events.first else {
            Issue.record("not accepted: \(events)")
            return
        }
        _ = try [UInt8](repeating: 1, count: 10).withUnsafeBytes { try stack.write($0, to: handle, at: now) }
        let data = try stack.pollFrames(at: now)
        #expect(data.map(\.ethernet.destination) == [Self.routerMAC])
        try stack.abort(handle, at: now)
        let reset = try stack.pollFrames(at: now)
        #expect(reset.count == 1 && reset.first?.tcp?.flags.contains(.rst) == true)
        #expect(reset.first?.ethernet.destination == Self.routerMAC)
    }

    @Test func anActiveOpenOffLinkResolvesTheGateway() throws {
        var configuration = Host.configuration()
        configuration.interface.gateway = Self.routerIP
        var stack = NetStack(configuration: configuration)
        let now = NetInstant.seconds(10)
        _ = try stack.connect(to: Self.farClient, port: 9090, at: now)
        var sent = try stack.pollFrames(at: now)
        if sent.isEmpty { sent = try stack.pollFrames(at: now) }
        let request = try #require(sent.first?.arp)
        #expect(request.operation == .request && request.targetProtocolAddress == Self.routerIP)
        stack.receive(Frame.arp(.reply, senderMAC: Self.routerMAC, senderIP: Self.routerIP, targetIP: Host.localIP), at: now)
        let syn = try stack.pollFrames(at: now)
        #expect(syn.first?.tcp?.flags == .syn)
        #expect(syn.first?.ethernet.destination == Self.routerMAC)
        #expect(syn.first?.ip?.destination == Self.farClient)
    }

    @Test func anActiveOpenOffLinkWithoutAGatewayTimesOut() throws {
        var stack = NetStack(configuration: Host.configuration())
        var now = NetInstant.seconds(10)
        let handle = try stack.connect(to: Self.farClient, port: 9090, at: now)
        var events: [NetEvent] = []
        for _ in 0..<1000 where events.isEmpty {
            _ = try stack.pollFrames(at: now)
            events += stack.drainEvents()
            now = max(now + .milliseconds(1), stack.nextDeadline)
        }
        #expect(events == [.closed(handle, .timedOut)])
    }
}
