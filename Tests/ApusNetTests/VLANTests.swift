@testable import ApusNet
import ApusWire
import Testing

/// A stack on an 802.1Q VLAN: only frames with its tag are its own, and every frame it sends
/// (ARP replies and requests, SYN-ACKs, data, RSTs) carries the tag.
@Suite struct VLANTests {
    static let vlan: UInt16 = 100

    static func stack() -> NetStack {
        var configuration = Host.configuration()
        configuration.interface.vlan = vlan
        return NetStack(configuration: configuration)
    }

    /// `frame` with an 802.1Q tag inserted after the MAC addresses.
    static func tagged(_ frame: [UInt8], vlan: UInt16 = vlan) -> [UInt8] {
        Array(frame[..<12]) + [0x81, 0x00, UInt8(vlan >> 8), UInt8(vlan & 0xFF)] + Array(frame[12...])
    }

    @Test func arpOnTheVLANIsAnsweredTagged() throws {
        var stack = Self.stack()
        let now = NetInstant.seconds(10)
        stack.receive(Self.tagged(Frame.arp(.request)), at: now)
        let sent = try stack.pollFrames(at: now)
        #expect(sent.count == 1)
        #expect(sent.first?.ethernet.vlanTag?.identifier == Self.vlan)
        #expect(sent.first?.arp?.operation == .reply)
    }

    @Test(arguments: [nil, 7] as [UInt16?])
    func framesOfAnotherVLANOrUntaggedAreDropped(other: UInt16?) throws {
        var stack = Self.stack()
        let now = NetInstant.seconds(10)
        let request = Frame.arp(.request)
        stack.receive(other.map { Self.tagged(request, vlan: $0) } ?? request, at: now)
        #expect(try stack.pollFrames(at: now).isEmpty)
        #expect(stack.statistics.droppedVLAN == 1)
    }

    @Test func tcpOnTheVLANIsAnsweredTaggedAndAnActiveOpenARPsTagged() throws {
        var stack = Self.stack()
        let now = NetInstant.seconds(10)
        try stack.listen(on: 80)
        let syn = TCPRepr(sourcePort: 40_000, destinationPort: 80, sequenceNumber: SequenceNumber(1), flags: .syn,
                          windowSize: 65_535, options: TCPOptions(maximumSegmentSize: 1460))
        stack.receive(Self.tagged(Frame.tcp(syn)), at: now)
        let synAck = try stack.pollFrames(at: now)
        #expect(synAck.first?.tcp?.flags == [.syn, .ack])
        #expect(synAck.first?.ethernet.vlanTag?.identifier == Self.vlan)

        _ = try stack.connect(to: Host.otherIP, port: 9090, at: now)
        var sent = try stack.pollFrames(at: now)
        if sent.isEmpty { sent = try stack.pollFrames(at: now) }
        #expect(sent.first?.arp?.targetProtocolAddress == Host.otherIP)
        #expect(sent.first?.ethernet.vlanTag?.identifier == Self.vlan)
    }
}
