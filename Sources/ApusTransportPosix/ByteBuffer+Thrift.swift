import ApusRPC
import ApusThrift
import NIOCore

extension ByteBufferAllocator {
    /// `message` (with a frame header when framed) in a buffer of exactly its
    /// size: sized first, allocated once, written in place.
    func thriftMessage(_ message: OutgoingMessage, protocol protocolID: ThriftProtocolID, framing: ThriftFraming) throws(ThriftError) -> ByteBuffer {
        let size = try message.encodedSize(protocol: protocolID)
        let header = framing == .framed ? MessageBoundary.frameHeaderSize : 0
        var buffer = self.buffer(capacity: header + size)
        try buffer.writeThriftMessage(message, size: size, protocol: protocolID, framing: framing)
        return buffer
    }
}

extension ByteBuffer {
    /// Appends `message`, whose encoded size is `size`, with a frame header when framed.
    mutating func writeThriftMessage(_ message: OutgoingMessage, size: Int, protocol protocolID: ThriftProtocolID, framing: ThriftFraming) throws(ThriftError) {
        let header = framing == .framed ? MessageBoundary.frameHeaderSize : 0
        var failure: ThriftError?
        writeWithUnsafeMutableBytes(minimumWritableBytes: header + size) { buffer in
            do throws(ThriftError) {
                if header > 0 { buffer.storeBytes(of: UInt32(size).bigEndian, as: UInt32.self) }
                let written = try message.encode(protocol: protocolID, into: UnsafeMutableRawBufferPointer(rebasing: buffer[header...]))
                return header + written
            } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
    }
}

extension SocketAddress {
    var peerAddress: PeerAddress {
        switch self {
        case .v4: PeerAddress("\(ipAddress ?? "?"):\(port ?? 0)")
        case .v6: PeerAddress("[\(ipAddress ?? "?")]:\(port ?? 0)")
        default: PeerAddress(description)
        }
    }
}
