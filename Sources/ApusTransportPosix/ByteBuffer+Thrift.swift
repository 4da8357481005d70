import ApusRPC
import ApusThrift
import NIOCore

extension ByteBuffer {
    /// Appends `message` (with a frame header when framed): sized first, then
    /// written in place, so the buffer grows at most once and nothing is copied.
    mutating func writeThriftMessage(_ message: OutgoingMessage, protocol protocolID: ThriftProtocolID, framing: ThriftFraming) throws(ThriftError) {
        let size = try message.encodedSize(protocol: protocolID)
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
