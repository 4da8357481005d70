import ApusWire
import Testing

@Suite struct EthernetFrameTests {
    @Test func parseUntagged() throws {
        try Fixtures.udpFrame.withUnsafeBytes { bytes in
            let frame = try EthernetFrame(bytes)
            #expect(frame.destination == Fixtures.server.mac)
            #expect(frame.source == Fixtures.client.mac)
            #expect(frame.etherType == .ipv4)
            #expect(frame.vlanTag == nil)
            #expect(frame.headerLength == 14)
            #expect(frame.payloadRange == 14..<53)
            #expect(Array(frame.payload) == Array(Fixtures.udpFrame[14...]))
        }
    }

    /// One 802.1Q tag is stepped over: the payload is the same as the untagged frame's.
    @Test func parseTaggedSkipsTheTag() throws {
        try Fixtures.vlanUDPFrame.withUnsafeBytes { bytes in
            let frame = try EthernetFrame(bytes)
            #expect(frame.etherType == .ipv4)
            #expect(frame.headerLength == 18)
            #expect(frame.vlanTag == VLANTag(identifier: 100, priority: 3))
            #expect(frame.vlanTag?.identifier == 100)
            #expect(frame.vlanTag?.priority == 3)
            #expect(frame.vlanTag?.dropEligible == false)
            #expect(Array(frame.payload) == Array(Fixtures.udpFrame[14...]))
            let repr = EthernetRepr(parsing: frame)
            #expect(repr.vlanTag?.rawValue == 0x6064)
            #expect(repr.headerLength == 18)
        }
    }

    @Test func emitUntagged() throws {
        let repr = EthernetRepr(destination: Fixtures.server.mac, source: Fixtures.client.mac, etherType: .ipv4)
        let bytes = try emitting(count: 16) { buffer throws(WireError) in try repr.emit(into: buffer) }
        #expect(bytes == Array(Fixtures.udpFrame[..<14]) + [0xEE, 0xEE])
        #expect(repr.bufferLength(payloadLength: 39) == 53)
    }

    @Test func emitTagged() throws {
        let repr = EthernetRepr(destination: Fixtures.server.mac, source: Fixtures.client.mac, etherType: .ipv4,
                                vlanTag: VLANTag(identifier: 100, priority: 3))
        let bytes = try emitting(count: 18) { buffer throws(WireError) in try repr.emit(into: buffer) }
        #expect(bytes == Array(Fixtures.vlanUDPFrame[..<18]))
    }

    @Test func emitIntoTooSmallBufferWritesNothing() {
        let repr = EthernetRepr(destination: .broadcast, source: Fixtures.server.mac, etherType: .arp,
                                vlanTag: VLANTag(identifier: 1))
        var bytes = [UInt8](repeating: 0xEE, count: 17)
        let error = bytes.withUnsafeMutableBytes { buffer in wireError { () throws(WireError) in try repr.emit(into: buffer) } }
        #expect(error?.kind == .bufferTooSmall)
        #expect(error?.layer == .ethernet)
        #expect(bytes == [UInt8](repeating: 0xEE, count: 17))
    }

    @Test func stackedTagsAreUnsupported() {
        let qinqInner = modified(Fixtures.vlanUDPFrame) { $0[16] = 0x81; $0[17] = 0x00 }
        let serviceTag = modified(Fixtures.vlanUDPFrame) { $0[12] = 0x88; $0[13] = 0xA8 }
        for frame in [qinqInner, serviceTag] {
            let error = frame.withUnsafeBytes { bytes in wireError { () throws(WireError) in _ = try EthernetFrame(bytes) } }
            #expect(error?.kind == .unsupported)
        }
    }

    /// IEEE 802.3 frames carry a length (≤ 1500) where Ethernet II has its type.
    @Test func lengthFieldFramesAreUnsupported() {
        let llc = modified(Fixtures.udpFrame) { $0[12] = 0x00; $0[13] = 0x27 }
        let kind = llc.withUnsafeBytes { bytes in errorKind { () throws(WireError) in _ = try EthernetFrame(bytes) } }
        #expect(kind == .unsupported)
    }

    @Test func unknownEtherTypeParses() throws {
        let lldp = modified(Fixtures.udpFrame) { $0[12] = 0x88; $0[13] = 0xCC }
        try lldp.withUnsafeBytes { bytes throws in
            #expect(try EthernetFrame(bytes).etherType == EtherType(rawValue: 0x88CC))
        }
    }
}
