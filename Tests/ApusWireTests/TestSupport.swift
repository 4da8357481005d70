import ApusWire
import Testing

/// Runs a parse or emit and returns the `WireError` it threw, or nil when it succeeded.
func wireError(_ body: () throws(WireError) -> Void) -> WireError? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}

/// The kind of error `body` threw, or nil.
func errorKind(_ body: () throws(WireError) -> Void) -> WireError.Kind? {
    wireError(body)?.kind
}

extension UnsafeRawBufferPointer {
    /// The bytes from `offset` on, rebased to zero.
    func from(_ offset: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: self[offset...]) }
}

extension UnsafeMutableRawBufferPointer {
    func from(_ offset: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: self[offset...])
    }
}

/// A buffer of `count` bytes filled with a sentinel, handed to `body` to emit into.
/// Emitters must touch only the bytes they own, so leftover sentinels are visible in the result.
func emitting(count: Int, fill: UInt8 = 0xEE, _ body: (UnsafeMutableRawBufferPointer) throws(WireError) -> Void)
    throws(WireError) -> [UInt8]
{
    var bytes = [UInt8](repeating: fill, count: count)
    let error = bytes.withUnsafeMutableBytes { buffer in wireError { () throws(WireError) in try body(buffer) } }
    if let error { throw error }
    return bytes
}

/// Copies `bytes`, changes them, and returns the copy.
func modified(_ bytes: [UInt8], _ change: (inout [UInt8]) -> Void) -> [UInt8] {
    var copy = bytes
    change(&copy)
    return copy
}

/// Parses a frame the way the stack does, every layer down to TCP options, and returns the
/// first error. `verifyChecksums: false` keeps going past bad checksums (for fuzzing).
func parseFrame(_ frame: UnsafeRawBufferPointer, verifyChecksums: Bool = true) throws(WireError) {
    let ethernet = try EthernetFrame(frame)
    let link = EthernetRepr(parsing: ethernet)
    _ = (link.headerLength, ethernet.vlanTag, ethernet.destination.isMulticast, ethernet.payloadRange)
    switch ethernet.etherType {
    case .arp:
        let arp = try ARPPacket(ethernet.payload)
        _ = ARPRepr(parsing: arp)
    case .ipv4:
        try parsePacket(ethernet.payload, verifyChecksums: verifyChecksums)
    default:
        break
    }
}

/// The IPv4 half of `parseFrame`.
func parsePacket(_ bytes: UnsafeRawBufferPointer, verifyChecksums: Bool = true) throws(WireError) {
    let ip = try IPv4Packet(bytes)
    _ = (ip.options.count, ip.headerChecksum, ip.fragmentOffset, ip.moreFragments, ip.ecn, ip.dscp)
    if verifyChecksums { try ip.verifyChecksum() }
    let network = try IPv4Repr(parsing: ip)
    let (source, destination) = (network.source, network.destination)
    switch network.protocol {
    case .icmp:
        let icmp = try ICMPv4Packet(ip.payload)
        if verifyChecksums { try icmp.verifyChecksum() }
        let repr = try ICMPv4Repr(parsing: icmp)
        #expect(repr.payloadLength == icmp.payload.count)
    case .udp:
        let udp = try UDPDatagram(ip.payload)
        if verifyChecksums { try udp.verifyChecksum(source: source, destination: destination) }
        _ = udp.hasPartialChecksum(source: source, destination: destination)
        let repr = UDPRepr(parsing: udp)
        #expect(repr.bufferLength == udp.bytes.count)
    case .tcp:
        let tcp = try TCPSegment(ip.payload)
        if verifyChecksums { try tcp.verifyChecksum(source: source, destination: destination) }
        _ = tcp.hasPartialChecksum(source: source, destination: destination)
        let repr = try TCPRepr(parsing: tcp)
        #expect(repr.payloadLength == tcp.payload.count)
        #expect(repr.segmentLength == tcp.segmentLength)
        _ = repr.options.sackBlocks.map(\.left)
    default:
        break
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a seeded generator so fuzz failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
