import ApusNet
import ApusWire

/// `NetStack` fed a sequence of frames, as an AF_XDP queue would feed it, with an echo
/// application on a listening TCP port and a bound UDP port.
///
/// The input is records: `op`, a 2-byte big-endian length, then that many frame bytes.
/// `op` bits steer the harness, so the fuzzer can get past what it could not guess:
/// - 0x01: address the frame to the stack (MACs, IPv4 addresses, ARP target);
/// - 0x02: TCP sequence and acknowledgment numbers relative to what the stack last sent
///   (the low 16 bits of each field, signed, are the offset), so handshakes complete;
/// - 0x04: fix the IPv4 header checksum and the TCP/UDP/ICMP checksum;
/// - 0x38: how far the clock moves before the frame (0 to 120 s);
/// - 0x40: the application writes to its connections; 0x80: it closes the oldest one.
///
/// Checked: every frame the stack sends is well formed and from its own addresses with
/// valid checksums; two polls at one instant leave nothing due then; buffer memory stays
/// within its budget; counters count every frame.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var harness = Harness()
    var offset = 0
    var frames = 0
    while offset + 3 <= size, frames < 64 {
        let op = data[offset]
        let length = min(Int(data[offset + 1]) << 8 | Int(data[offset + 2]), size - offset - 3)
        var frame = Array(UnsafeBufferPointer(start: data + offset + 3, count: length))
        offset += 3 + length
        frames += 1
        harness.step(op: op, frame: &frame)
    }
    // Let every timer run out: retransmissions give up, TIME-WAIT ends, ARP entries age.
    for _ in 0..<8 {
        harness.now += .seconds(60)
        harness.poll()
    }
    precondition(harness.stack.statistics.framesReceived == UInt64(frames), "frames received miscounted")
    return 0
}

let localMAC = MACAddress(0x02, 0, 0, 0, 0, 0x01)
let localIP = IPv4Address(10, 10, 0, 10)
let remoteMAC = MACAddress(0x02, 0, 0, 0, 0, 0x02)
let remoteIP = IPv4Address(10, 10, 0, 1)
let tcpPort: UInt16 = 80
let udpPort: UInt16 = 7
let memoryBudget = 256 * 1024

struct Harness {
    var stack: NetStack
    var now = NetInstant.seconds(10)
    var connections: [TCPHandle] = []
    /// The last TCP segment the stack sent: the base for relative sequence numbers.
    var lastSequenceEnd: UInt32 = 0
    var lastAcknowledgment: UInt32 = 0
    var scratch = [UInt8](repeating: 0, count: 4096)

    init() {
        var configuration = NetStackConfiguration(interface: InterfaceConfiguration(
            macAddress: localMAC, addresses: [localIP], subnet: IPv4Subnet(address: IPv4Address(10, 10, 0, 0), prefixLength: 24)))
        configuration.secret = (1, 2)  // deterministic ISNs and cookies: a crash must reproduce
        configuration.tcp.sendBufferSize = 8192
        configuration.tcp.receiveBufferSize = 8192
        configuration.tcp.maximumOutOfOrderSegments = 8
        configuration.maximumConnections = 16
        configuration.maximumBufferMemory = memoryBudget
        stack = NetStack(configuration: configuration)
        try! stack.listen(on: tcpPort, backlog: 2)
        _ = try! stack.bindUDP(port: udpPort)
    }

    mutating func step(op: UInt8, frame: inout [UInt8]) {
        let advances: [NetDuration] = [.zero, .milliseconds(1), .milliseconds(40), .milliseconds(250), .seconds(1), .seconds(3), .seconds(30), .seconds(120)]
        now += advances[Int(op >> 3 & 7)]
        rewrite(&frame, address: op & 1 != 0, relative: op & 2 != 0, checksums: op & 4 != 0)
        frame.withUnsafeBytes { stack.receive($0, at: now) }
        events()
        if op & 0x40 != 0 {
            for handle in connections {
                scratch.withUnsafeBytes { _ = try? stack.write(UnsafeRawBufferPointer(rebasing: $0[..<min($0.count, 3000)]), to: handle, at: now) }
            }
        }
        if op & 0x80 != 0, let oldest = connections.first { try? stack.close(oldest, at: now) }
        poll()
    }

    mutating func poll() {
        var transmitter = CheckingTransmitter()
        stack.poll(at: now, transmitter: &transmitter)
        // A poll may leave work due now (an ARP resolution a connection started during the
        // round goes out on the next poll); a second poll at the same instant must settle it,
        // or a device loop would spin. Checked before the application reacts to the events,
        // which may queue output again.
        if stack.nextDeadline <= now { stack.poll(at: now, transmitter: &transmitter) }
        precondition(stack.nextDeadline > now, "after two polls at \(now) something is still due at \(stack.nextDeadline)")
        if let last = transmitter.lastTCP {
            lastSequenceEnd = last.sequenceEnd
            lastAcknowledgment = last.acknowledgment
        }
        events()
        precondition(stack.bufferMemoryInUse <= memoryBudget, "buffer memory \(stack.bufferMemoryInUse) over the budget")
    }

    /// The echo application: reads what arrived and writes it back; closes at end of stream.
    mutating func events() {
        while let event = stack.nextEvent() {
            switch event {
            case .accepted(let handle, let port):
                precondition(port == tcpPort, "accepted on port \(port)")
                connections.append(handle)
            case .readable(let handle):
                let count = scratch.withUnsafeMutableBytes { (try? stack.read(from: handle, into: $0, at: now)) ?? 0 }
                if count > 0 {
                    scratch.withUnsafeBytes { _ = try? stack.write(UnsafeRawBufferPointer(rebasing: $0[..<count]), to: handle, at: now) }
                } else if stack.isAtEndOfStream(handle) {
                    try? stack.close(handle, at: now)
                }
            case .closed(let handle, _):
                precondition(stack.state(of: handle) == nil, "a closed handle still has a state")
                connections.removeAll { $0 == handle }
            case .datagram(let endpoint):
                while let received = try? stack.receiveDatagram(on: endpoint) {
                    precondition(received.source.destination == localIP || received.source.destination.isBroadcast
                                 || received.source.destination == IPv4Address(10, 10, 0, 255),
                                 "a datagram for \(received.source.destination) was delivered")
                }
            case .writable, .connected:
                break
            }
        }
    }

    /// Applies the steering bits of `op` to a frame that parses far enough.
    mutating func rewrite(_ frame: inout [UInt8], address: Bool, relative: Bool, checksums: Bool) {
        guard frame.count >= 14 else { return }
        if address {
            frame.replaceSubrange(0..<6, with: [0x02, 0, 0, 0, 0, 0x01])
            frame.replaceSubrange(6..<12, with: [0x02, 0, 0, 0, 0, 0x02])
        }
        let etherType = UInt16(frame[12]) << 8 | UInt16(frame[13])
        if etherType == 0x0806, frame.count >= 14 + 28, address {
            store32(&frame, 14 + 14, remoteIP.rawValue)
            store32(&frame, 14 + 24, localIP.rawValue)
            return
        }
        guard etherType == 0x0800, frame.count >= 34, frame[14] >> 4 == 4 else { return }
        let headerLength = Int(frame[14] & 0x0F) * 4
        let totalLength = Int(frame[16]) << 8 | Int(frame[17])
        guard headerLength >= 20, totalLength >= headerLength, 14 + totalLength <= frame.count else { return }
        if address {
            store32(&frame, 14 + 12, remoteIP.rawValue)
            store32(&frame, 14 + 16, localIP.rawValue)
        }
        let transport = (14 + headerLength)..<(14 + totalLength)
        let source = IPv4Address(rawValue: load32(frame, 14 + 12))
        let destination = IPv4Address(rawValue: load32(frame, 14 + 16))
        switch frame[14 + 9] {
        case 6 where transport.count >= 20:
            if relative {
                let seqOffset = Int16(bitPattern: UInt16(frame[transport.lowerBound + 6]) << 8 | UInt16(frame[transport.lowerBound + 7]))
                let ackOffset = Int16(bitPattern: UInt16(frame[transport.lowerBound + 10]) << 8 | UInt16(frame[transport.lowerBound + 11]))
                store32(&frame, transport.lowerBound + 4, lastAcknowledgment &+ UInt32(bitPattern: Int32(seqOffset)))
                store32(&frame, transport.lowerBound + 8, lastSequenceEnd &+ UInt32(bitPattern: Int32(ackOffset)))
            }
            if checksums { fixTransportChecksum(&frame, transport, at: 16, protocol: .tcp, source, destination) }
        case 17 where transport.count >= 8:
            if checksums { fixTransportChecksum(&frame, transport, at: 6, protocol: .udp, source, destination) }
        case 1 where transport.count >= 8:
            if checksums {
                frame[transport.lowerBound + 2] = 0
                frame[transport.lowerBound + 3] = 0
                let value = frame.withUnsafeBytes { InternetChecksum.checksum(UnsafeRawBufferPointer(rebasing: $0[transport])) }
                store16(&frame, transport.lowerBound + 2, value)
            }
        default:
            break
        }
        if checksums {
            frame[14 + 10] = 0
            frame[14 + 11] = 0
            let value = frame.withUnsafeBytes { InternetChecksum.checksum(UnsafeRawBufferPointer(rebasing: $0[14..<(14 + headerLength)])) }
            store16(&frame, 14 + 10, value)
        }
    }
}

func fixTransportChecksum(_ frame: inout [UInt8], _ range: Range<Int>, at field: Int, protocol: IPProtocol,
                         _ source: IPv4Address, _ destination: IPv4Address) {
    frame[range.lowerBound + field] = 0
    frame[range.lowerBound + field + 1] = 0
    var sum = InternetChecksum()
    sum.addPseudoHeader(source: source, destination: destination, protocol: `protocol`, length: range.count)
    frame.withUnsafeBytes { sum.add(UnsafeRawBufferPointer(rebasing: $0[range])) }
    store16(&frame, range.lowerBound + field, sum.checksum)
}

func store16(_ bytes: inout [UInt8], _ at: Int, _ value: UInt16) {
    bytes[at] = UInt8(value >> 8)
    bytes[at + 1] = UInt8(truncatingIfNeeded: value)
}

func store32(_ bytes: inout [UInt8], _ at: Int, _ value: UInt32) {
    for index in 0..<4 { bytes[at + index] = UInt8(truncatingIfNeeded: value >> (24 - 8 * index)) }
}

func load32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    (0..<4).reduce(0) { $0 << 8 | UInt32(bytes[at + $1]) }
}

/// Takes every frame the stack sends and checks it as the peer's kernel would.
/// One TX buffer for the whole run, as a UMEM chunk would be.
nonisolated(unsafe) let transmitBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536 + 64, alignment: 64)

struct CheckingTransmitter: FrameTransmitter {
    var buffer: UnsafeMutableRawBufferPointer { transmitBuffer }
    var lastTCP: (sequenceEnd: UInt32, acknowledgment: UInt32)?

    mutating func transmit(maximumLength: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) -> Bool {
        precondition(maximumLength > 0 && maximumLength <= buffer.count, "asked for a \(maximumLength)-byte frame")
        let length = write(UnsafeMutableRawBufferPointer(rebasing: buffer[..<maximumLength]))
        precondition(length >= 0 && length <= maximumLength, "wrote \(length) of \(maximumLength) bytes")
        if length > 0 { check(UnsafeRawBufferPointer(rebasing: buffer[..<length])) }
        return true
    }

    mutating func check(_ frame: UnsafeRawBufferPointer) {
        do {
            let ethernet = try EthernetFrame(frame)
            precondition(ethernet.source == localMAC, "sent from MAC \(ethernet.source)")
            precondition(ethernet.headerLength == 14, "sent a tagged frame")
            switch ethernet.etherType {
            case .arp:
                let arp = ARPRepr(parsing: try ARPPacket(ethernet.payload))
                precondition(arp.senderHardwareAddress == localMAC && arp.senderProtocolAddress == localIP, "ARP from \(arp)")
            case .ipv4:
                let packet = try IPv4Packet(ethernet.payload)
                try packet.verifyChecksum()
                let ip = try IPv4Repr(parsing: packet)
                precondition(ip.source == localIP, "sent from \(ip.source)")
                precondition(packet.totalLength <= 1500, "a \(packet.totalLength)-byte packet on a 1500 MTU")
                switch ip.protocol {
                case .tcp:
                    let segment = try TCPSegment(packet.payload)
                    try segment.verifyChecksum(source: ip.source, destination: ip.destination)
                    let tcp = try TCPRepr(parsing: segment)
                    precondition(tcp.sourcePort == tcpPort || !tcp.flags.contains(.syn) || tcp.flags.contains(.rst), "SYN from port \(tcp.sourcePort)")
                    lastTCP = (tcp.sequenceNumber.rawValue &+ UInt32(tcp.segmentLength), tcp.acknowledgmentNumber.rawValue)
                case .udp:
                    let datagram = try UDPDatagram(packet.payload)
                    precondition(datagram.checksum != 0, "UDP sent without a checksum")
                    try datagram.verifyChecksum(source: ip.source, destination: ip.destination)
                case .icmp:
                    let message = try ICMPv4Packet(packet.payload)
                    try message.verifyChecksum()
                    let isEchoReply = try ICMPv4Repr(parsing: message).type == .echoReply
                    precondition(isEchoReply, "sent an ICMP message other than an echo reply")
                default:
                    preconditionFailure("sent IP protocol \(ip.protocol)")
                }
            default:
                preconditionFailure("sent EtherType \(ethernet.etherType)")
            }
        } catch {
            preconditionFailure("the stack sent a malformed frame: \(error)")
        }
    }
}
