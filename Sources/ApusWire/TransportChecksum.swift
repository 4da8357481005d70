/// How a UDP or TCP `emit` fills the checksum field.
///
/// Both checksums cover an IPv4 pseudo-header (RFC 768; RFC 9293 §3.1), so
/// computing one needs the addresses the segment will carry.
public enum TransportChecksum: Sendable, Hashable {
    /// Compute the full checksum over pseudo-header, header and payload (the payload must
    /// already be in place after the header).
    case compute(source: IPv4Address, destination: IPv4Address)
    /// Compute it, with the sum of the last `payloadLength` bytes taken already (while they
    /// were copied into place: `InternetChecksum.add(copying:into:)`); only the header is read.
    case computeWithPayloadSum(source: IPv4Address, destination: IPv4Address, payload: InternetChecksum, payloadLength: Int)
    /// Store only the folded pseudo-header sum, uncomplemented, and let the device finish it:
    /// what Linux `CHECKSUM_PARTIAL`, virtio-net `NEEDS_CSUM` and AF_XDP TX checksum
    /// offload expect to find in the field.
    case pseudoHeaderOnly(source: IPv4Address, destination: IPv4Address)
    /// Store zero: for UDP "no checksum" (RFC 768), otherwise a placeholder to fill later.
    case zero
}

extension InternetChecksum {
    /// The pseudo-header sum plus `bytes` (a whole UDP datagram or TCP segment).
    @inlinable
    static func transport(_ bytes: UnsafeRawBufferPointer, source: IPv4Address, destination: IPv4Address,
                          protocol: IPProtocol) -> InternetChecksum {
        var checksum = InternetChecksum()
        checksum.addPseudoHeader(source: source, destination: destination, protocol: `protocol`, length: bytes.count)
        checksum.add(bytes)
        return checksum
    }

    /// The value for a transport header's checksum field, given the datagram or segment with a
    /// zero checksum field (0 for `.zero`).
    @inlinable
    static func transportField(_ mode: TransportChecksum, _ bytes: UnsafeRawBufferPointer,
                               protocol: IPProtocol) -> UInt16 {
        switch mode {
        case .compute(let source, let destination):
            return transport(bytes, source: source, destination: destination, protocol: `protocol`).checksum
        case .computeWithPayloadSum(let source, let destination, let payload, let payloadLength):
            var checksum = InternetChecksum()
            checksum.addPseudoHeader(source: source, destination: destination, protocol: `protocol`, length: bytes.count)
            checksum.add(UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count - payloadLength)]))
            checksum.add(payload)
            return checksum.checksum
        case .pseudoHeaderOnly(let source, let destination):
            var checksum = InternetChecksum()
            checksum.addPseudoHeader(source: source, destination: destination, protocol: `protocol`, length: bytes.count)
            return checksum.foldedSum
        case .zero:
            return 0
        }
    }
}
