import ApusWire

/// ApusWire's header views and reprs. The first byte picks where parsing starts
/// (an Ethernet frame, descending through ARP or IPv4 into ICMP, UDP or TCP; or one layer
/// on its own; or TCP options alone; or the checksum); the rest is the bytes.
///
/// Whatever parses must survive a round trip: repr → emit → parse gives the same repr and
/// the same payload, emitted checksums verify, and an emit that refuses does so with an
/// error, never by writing past its buffer (ASan). The checksum is checked against itself:
/// summed in pieces, summed at once and updated incrementally must agree.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    switch data[0] % 8 {
    case 0: checkEthernet(bytes)
    case 1: checkIPv4(bytes)
    case 2: checkTCP(bytes, source: local, destination: remote)
    case 3: checkUDP(bytes, source: local, destination: remote)
    case 4: checkICMP(bytes)
    case 5: checkARP(bytes)
    case 6: checkTCPOptions(bytes)
    default: checkChecksum(bytes)
    }
    return 0
}

let local = IPv4Address(10, 10, 0, 10)
let remote = IPv4Address(10, 10, 0, 1)

/// A buffer of `count` bytes whose tail (from `at`) is a copy of `payload`, for emitting a
/// header in front of a payload as a TX path does.
func withFrame(_ count: Int, payload: UnsafeRawBufferPointer, at offset: Int, _ body: (UnsafeMutableRawBufferPointer) -> Void) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
    defer { buffer.deallocate() }
    buffer.initializeMemory(as: UInt8.self, repeating: 0xA5)
    if !payload.isEmpty { UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + payload.count)]).copyMemory(from: payload) }
    body(buffer)
}

func checkEthernet(_ bytes: UnsafeRawBufferPointer) {
    guard let frame = try? EthernetFrame(bytes) else { return }
    precondition(frame.headerLength == 14 || frame.headerLength == 18)
    precondition(frame.payload.count == bytes.count - frame.headerLength)
    let repr = EthernetRepr(parsing: frame)
    precondition(repr.headerLength == frame.headerLength)
    withFrame(repr.bufferLength(payloadLength: frame.payload.count), payload: frame.payload, at: repr.headerLength) { buffer in
        do {
            try repr.emit(into: buffer)
            let again = try EthernetFrame(UnsafeRawBufferPointer(buffer))
            precondition(EthernetRepr(parsing: again) == repr, "Ethernet repr changed in a round trip")
            precondition(again.payload.elementsEqual(frame.payload), "Ethernet payload moved")
        } catch { preconditionFailure("Ethernet round trip failed: \(error)") }
        precondition((try? repr.emit(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<(repr.headerLength - 1)]))) == nil,
                     "Ethernet emit into a short buffer succeeded")
    }
    switch frame.etherType {
    case .arp: checkARP(frame.payload)
    case .ipv4: checkIPv4(frame.payload)
    default: break
    }
}

func checkARP(_ bytes: UnsafeRawBufferPointer) {
    guard let packet = try? ARPPacket(bytes) else { return }
    let repr = ARPRepr(parsing: packet)
    withFrame(repr.bufferLength, payload: UnsafeRawBufferPointer(start: nil, count: 0), at: 0) { buffer in
        do {
            try repr.emit(into: buffer)
            precondition(buffer.elementsEqual(packet.bytes), "an ARP packet re-emits differently")
            let again = try ARPPacket(UnsafeRawBufferPointer(buffer))
            precondition(ARPRepr(parsing: again) == repr, "ARP repr changed in a round trip")
        } catch { preconditionFailure("ARP round trip failed: \(error)") }
    }
}

func checkIPv4(_ bytes: UnsafeRawBufferPointer) {
    guard let packet = try? IPv4Packet(bytes) else { return }
    precondition(packet.headerLength >= 20 && packet.headerLength <= packet.totalLength && packet.totalLength <= bytes.count)
    precondition(packet.payload.count == packet.totalLength - packet.headerLength)
    let checksumOK = (try? packet.verifyChecksum()) != nil
    var sum = InternetChecksum()
    sum.add(UnsafeRawBufferPointer(rebasing: packet.bytes[..<packet.headerLength]))
    precondition(checksumOK == sum.isValid, "verifyChecksum disagrees with the header sum")
    guard let repr = try? IPv4Repr(parsing: packet) else {
        precondition(packet.isFragment, "only fragments fail to parse into a repr")
        return
    }
    withFrame(repr.bufferLength, payload: packet.payload, at: repr.headerLength) { buffer in
        do {
            try repr.emit(into: buffer)
            let again = try IPv4Packet(UnsafeRawBufferPointer(buffer))
            try again.verifyChecksum()
            let sameIPv4 = try IPv4Repr(parsing: again) == repr
            precondition(sameIPv4, "IPv4 repr changed in a round trip")
            precondition(again.payload.elementsEqual(packet.payload), "IPv4 payload changed")
        } catch { preconditionFailure("IPv4 round trip failed: \(error)") }
    }
    switch repr.protocol {
    case .tcp: checkTCP(packet.payload, source: repr.source, destination: repr.destination)
    case .udp: checkUDP(packet.payload, source: repr.source, destination: repr.destination)
    case .icmp: checkICMP(packet.payload)
    default: break
    }
}

func checkICMP(_ bytes: UnsafeRawBufferPointer) {
    guard let packet = try? ICMPv4Packet(bytes) else { return }
    guard let repr = try? ICMPv4Repr(parsing: packet) else { return }
    for message in [repr, repr.reply] {
        withFrame(message.bufferLength, payload: packet.payload, at: message.headerLength) { buffer in
            do {
                try message.emit(into: buffer)
                let again = try ICMPv4Packet(UnsafeRawBufferPointer(buffer))
                try again.verifyChecksum()
                let sameICMP = try ICMPv4Repr(parsing: again) == message
                precondition(sameICMP, "ICMP repr changed in a round trip")
                precondition(again.payload.elementsEqual(packet.payload))
            } catch { preconditionFailure("ICMP round trip failed: \(error)") }
        }
    }
}

func checkUDP(_ bytes: UnsafeRawBufferPointer, source: IPv4Address, destination: IPv4Address) {
    guard let datagram = try? UDPDatagram(bytes) else { return }
    precondition(datagram.length >= 8 && datagram.length <= bytes.count)
    let repr = UDPRepr(parsing: datagram)
    withFrame(repr.bufferLength, payload: datagram.payload, at: repr.headerLength) { buffer in
        do {
            try repr.emit(into: buffer, checksum: .compute(source: source, destination: destination))
            let again = try UDPDatagram(UnsafeRawBufferPointer(buffer))
            precondition(again.checksum != 0, "a computed UDP checksum went out as 0 (none)")
            try again.verifyChecksum(source: source, destination: destination)
            precondition(UDPRepr(parsing: again) == repr && again.payload.elementsEqual(datagram.payload), "UDP round trip changed")
            try repr.emit(into: buffer, checksum: .pseudoHeaderOnly(source: source, destination: destination))
            let udpPartial = try UDPDatagram(UnsafeRawBufferPointer(buffer)).hasPartialChecksum(source: source, destination: destination)
            precondition(udpPartial,
                         "a pseudo-header-only UDP checksum is not recognised")
        } catch { preconditionFailure("UDP round trip failed: \(error)") }
    }
}

func checkTCP(_ bytes: UnsafeRawBufferPointer, source: IPv4Address, destination: IPv4Address) {
    guard let segment = try? TCPSegment(bytes) else { return }
    precondition(segment.headerLength >= 20 && segment.headerLength <= bytes.count)
    guard let repr = try? TCPRepr(parsing: segment) else { return }
    precondition(repr.payloadLength == segment.payload.count)
    precondition(repr.segmentLength == segment.segmentLength)
    roundTripTCP(repr, payload: segment.payload, source: source, destination: destination)
}

func roundTripTCP(_ repr: TCPRepr, payload: UnsafeRawBufferPointer, source: IPv4Address, destination: IPv4Address) {
    let fits = repr.options.encodedLength <= 40 && repr.bufferLength <= 65535
    precondition(repr.options.encodedLength % 4 == 0, "TCP options not padded to 4")
    withFrame(max(repr.bufferLength, 20), payload: payload, at: repr.headerLength) { buffer in
        do {
            try repr.emit(into: buffer, checksum: .compute(source: source, destination: destination))
            precondition(fits, "TCP options of \(repr.options.encodedLength) bytes were emitted")
            let again = try TCPSegment(UnsafeRawBufferPointer(buffer))
            try again.verifyChecksum(source: source, destination: destination)
            let sameTCP = try TCPRepr(parsing: again) == repr
            precondition(sameTCP, "TCP repr changed in a round trip: \(repr)")
            precondition(again.payload.elementsEqual(payload), "TCP payload changed")
            try repr.emit(into: buffer, checksum: .pseudoHeaderOnly(source: source, destination: destination))
            let tcpPartial = try TCPSegment(UnsafeRawBufferPointer(buffer)).hasPartialChecksum(source: source, destination: destination)
            precondition(tcpPartial,
                         "a pseudo-header-only TCP checksum is not recognised")
        } catch {
            precondition(!fits, "TCP round trip failed: \(error)")
        }
    }
}

func checkTCPOptions(_ bytes: UnsafeRawBufferPointer) {
    guard let options = try? TCPOptions(parsing: bytes) else { return }
    if let scale = options.windowScale { precondition(scale <= TCPOptions.maximumWindowScale) }
    let repr = TCPRepr(sourcePort: 80, destinationPort: 49_500, sequenceNumber: SequenceNumber(1), flags: .syn,
                       windowSize: 1000, options: options)
    roundTripTCP(repr, payload: UnsafeRawBufferPointer(start: nil, count: 0), source: local, destination: remote)
}

func checkChecksum(_ bytes: UnsafeRawBufferPointer) {
    let whole = InternetChecksum.checksum(bytes)
    // Summed in pieces cut at every third byte value's position (odd and even offsets alike).
    var pieces = InternetChecksum()
    var start = 0
    for (index, byte) in bytes.enumerated() where byte % 3 == 0 || index == bytes.count - 1 {
        pieces.add(UnsafeRawBufferPointer(rebasing: bytes[start...index]))
        start = index + 1
    }
    precondition(pieces.checksum == whole, "a checksum summed in pieces differs")
    // With the checksum stored in the first word, the data verifies.
    guard bytes.count >= 4 else { return }
    var copy = Array(bytes)
    copy[0] = 0; copy[1] = 0
    let stored = copy.withUnsafeBytes { InternetChecksum.checksum($0) }
    copy[0] = UInt8(stored >> 8); copy[1] = UInt8(truncatingIfNeeded: stored)
    precondition(copy.withUnsafeBytes { raw in var c = InternetChecksum(); c.add(raw); return c.isValid }, "stored checksum does not verify")
    // RFC 1624: changing the second word updates the checksum as recomputing does (up to ±0).
    let old = UInt16(copy[2]) << 8 | UInt16(copy[3])
    let new = ~old &+ UInt16(truncatingIfNeeded: bytes.count)
    copy[2] = UInt8(new >> 8); copy[3] = UInt8(truncatingIfNeeded: new)
    let updated = InternetChecksum.update(stored, replacing: old, with: new)
    copy[0] = 0; copy[1] = 0
    let recomputed = copy.withUnsafeBytes { InternetChecksum.checksum($0) }
    precondition(updated == recomputed || (updated == 0 && recomputed == 0xFFFF) || (updated == 0xFFFF && recomputed == 0),
                 "incremental update \(updated) differs from recomputing \(recomputed)")
}
