@testable import ApusNet
import ApusTesting
import ApusWire
import Testing

/// The two hosts every test uses: Apus (local) and its peer (remote), as on the veth testbed.
enum Host {
    static let localMAC = MACAddress(0x02, 0, 0, 0, 0, 0x01)
    static let localIP = IPv4Address(10, 10, 0, 10)
    static let remoteMAC = MACAddress(0x02, 0, 0, 0, 0, 0x02)
    static let remoteIP = IPv4Address(10, 10, 0, 1)
    static let otherIP = IPv4Address(10, 10, 0, 99)

    static func configuration(mac: MACAddress = localMAC, address: IPv4Address = localIP) -> NetStackConfiguration {
        var configuration = NetStackConfiguration(interface: InterfaceConfiguration(
            macAddress: mac, addresses: [address], subnet: IPv4Subnet(address: IPv4Address(10, 10, 0, 0), prefixLength: 24)))
        configuration.secret = (1, 2)
        return configuration
    }
}

// MARK: - Building frames the peer sends

enum Frame {
    static func ethernet(_ etherType: EtherType, payload: [UInt8], from source: MACAddress = Host.remoteMAC,
                         to destination: MACAddress = Host.localMAC) -> [UInt8] {
        let link = EthernetRepr(destination: destination, source: source, etherType: etherType)
        var frame = [UInt8](repeating: 0, count: link.headerLength)
        frame.withUnsafeMutableBytes { try! link.emit(into: $0) }
        return frame + payload
    }

    static func ipv4(_ protocol: IPProtocol, payload: [UInt8], from source: IPv4Address = Host.remoteIP,
                     to destination: IPv4Address = Host.localIP, identification: UInt16 = 0) -> [UInt8] {
        let ip = IPv4Repr(source: source, destination: destination, protocol: `protocol`, payloadLength: payload.count,
                          identification: identification)
        var packet = [UInt8](repeating: 0, count: ip.headerLength) + payload
        packet.withUnsafeMutableBytes { try! ip.emit(into: $0) }
        return packet
    }

    static func tcp(_ repr: TCPRepr, payload: [UInt8] = [], from source: IPv4Address = Host.remoteIP,
                    to destination: IPv4Address = Host.localIP, macFrom: MACAddress = Host.remoteMAC,
                    macTo: MACAddress = Host.localMAC) -> [UInt8] {
        var repr = repr
        repr.payloadLength = payload.count
        var segment = [UInt8](repeating: 0, count: repr.headerLength) + payload
        segment.withUnsafeMutableBytes { try! repr.emit(into: $0, checksum: .compute(source: source, destination: destination)) }
        return ethernet(.ipv4, payload: ipv4(.tcp, payload: segment, from: source, to: destination), from: macFrom, to: macTo)
    }

    static func udp(from sourcePort: UInt16, to destinationPort: UInt16, payload: [UInt8],
                    source: IPv4Address = Host.remoteIP, destination: IPv4Address = Host.localIP,
                    checksum: TransportChecksum? = nil) -> [UInt8] {
        let udp = UDPRepr(sourcePort: sourcePort, destinationPort: destinationPort, payloadLength: payload.count)
        var datagram = [UInt8](repeating: 0, count: udp.headerLength) + payload
        datagram.withUnsafeMutableBytes {
            try! udp.emit(into: $0, checksum: checksum ?? .compute(source: source, destination: destination))
        }
        return ethernet(.ipv4, payload: ipv4(.udp, payload: datagram, from: source, to: destination))
    }

    static func arp(_ operation: ARPOperation, senderMAC: MACAddress = Host.remoteMAC, senderIP: IPv4Address = Host.remoteIP,
                    targetMAC: MACAddress = .zero, targetIP: IPv4Address = Host.localIP,
                    to destination: MACAddress = .broadcast) -> [UInt8] {
        let arp = ARPRepr(operation: operation, senderHardwareAddress: senderMAC, senderProtocolAddress: senderIP,
                          targetHardwareAddress: targetMAC, targetProtocolAddress: targetIP)
        var packet = [UInt8](repeating: 0, count: arp.bufferLength)
        packet.withUnsafeMutableBytes { try! arp.emit(into: $0) }
        return ethernet(.arp, payload: packet, from: senderMAC, to: destination)
    }
}

// MARK: - Reading frames the stack sends

/// A frame the stack sent, parsed down to its transport header.
struct Sent: CustomStringConvertible {
    var ethernet: EthernetRepr
    var arp: ARPRepr?
    var ip: IPv4Repr?
    var tcp: TCPRepr?
    var udp: UDPRepr?
    var icmp: ICMPv4Repr?
    var payload: [UInt8] = []

    init(_ frame: [UInt8]) throws {
        (ethernet, arp, ip, tcp, udp, icmp, payload) = try frame.withUnsafeBytes { bytes in
            let link = try EthernetFrame(bytes)
            let ethernet = EthernetRepr(parsing: link)
            if link.etherType == .arp {
                return (ethernet, ARPRepr(parsing: try ARPPacket(link.payload)), nil, nil, nil, nil, [])
            }
            let packet = try IPv4Packet(link.payload)
            try packet.verifyChecksum()
            let ip = try IPv4Repr(parsing: packet)
            switch ip.protocol {
            case .tcp:
                let segment = try TCPSegment(packet.payload)
                try segment.verifyChecksum(source: ip.source, destination: ip.destination)
                return (ethernet, nil, ip, try TCPRepr(parsing: segment), nil, nil, Array(segment.payload))
            case .udp:
                let datagram = try UDPDatagram(packet.payload)
                try datagram.verifyChecksum(source: ip.source, destination: ip.destination)
                #expect(datagram.checksum != 0, "outgoing UDP checksums are always computed")
                return (ethernet, nil, ip, nil, UDPRepr(parsing: datagram), nil, Array(datagram.payload))
            case .icmp:
                let message = try ICMPv4Packet(packet.payload)
                try message.verifyChecksum()
                return (ethernet, nil, ip, nil, nil, try ICMPv4Repr(parsing: message), Array(message.payload))
            default:
                return (ethernet, nil, ip, nil, nil, nil, Array(packet.payload))
            }
        }
    }

    var description: String {
        if let tcp {
            return "TCP \(tcp.flags) seq=\(tcp.sequenceNumber) ack=\(tcp.acknowledgmentNumber) win=\(tcp.windowSize) len=\(payload.count)"
        }
        if let arp { return "ARP \(arp.operation) \(arp.targetProtocolAddress)" }
        if let udp { return "UDP \(udp.sourcePort)->\(udp.destinationPort) len=\(payload.count)" }
        if let icmp { return "ICMP \(icmp.type)" }
        return "frame"
    }
}

extension NetStack {
    /// Polls at `now` and returns the parsed frames sent.
    mutating func pollFrames(at now: NetInstant, capacity: Int? = nil) throws -> [Sent] {
        var collector = FrameCollector(capacity: capacity)
        poll(at: now, transmitter: &collector)
        return try collector.frames.map(Sent.init)
    }

    mutating func receive(_ frame: [UInt8], at now: NetInstant) {
        frame.withUnsafeBytes { receive($0, at: now) }
    }

    /// Every event now waiting.
    mutating func drainEvents() -> [NetEvent] {
        var events: [NetEvent] = []
        while let event = nextEvent() { events.append(event) }
        return events
    }
}

/// Bytes 0, 1, 2, ... (mod 256), `count` of them.
func pattern(_ count: Int, offset: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 + offset) }
}
