import ApusThrift

/// A message sized for the wire: frame header (when framed) and Thrift
/// message, written in one pass into memory the transport owns (a NIO
/// buffer, TCP send-buffer space, a connection's held-back bytes).
package struct WireMessage: Sendable {
    package let message: OutgoingMessage
    package let protocolID: ThriftProtocolID
    /// Header and body, without the frame header.
    package let messageSize: Int
    package let frameHeaderSize: Int
    /// The message with its THeader transforms applied (zlib), when it has any: made once
    /// here, since its size is known only after compressing.
    private let transformed: [UInt8]?

    /// Sizes `message`; throws when it cannot be encoded (a value over a limit, a bad union).
    package init(_ message: consuming OutgoingMessage, protocol protocolID: ThriftProtocolID, framing: ThriftFraming) throws(ThriftError) {
        self.protocolID = protocolID
        let plainSize = try message.encodedSize(protocol: protocolID)
        if let header = message.header, !header.transforms.isEmpty {
            var plain = [UInt8](repeating: 0, count: plainSize)
            let written = plain.withUnsafeMutableBytes { space in
                Result { () throws(ThriftError) in try message.encode(protocol: protocolID, into: space) }
            }
            guard try written.get() == plainSize else { throw ThriftError(.outputFull, offset: 0, detail: "message shorter than its size") }
            let transformed = try THeaderTransforms.encode(plain, transforms: header.transforms)
            self.transformed = transformed
            self.messageSize = transformed.count
        } else {
            self.transformed = nil
            self.messageSize = plainSize
        }
        if let header = message.header {
            self.frameHeaderSize = header.frameHeaderSize  // LENGTH included
        } else {
            self.frameHeaderSize = framing == .framed ? MessageBoundary.frameHeaderSize : 0
        }
        self.message = consume message  // last: stored by moving, not copying
    }

    /// Bytes on the wire.
    package var size: Int { frameHeaderSize + messageSize }

    /// Writes the message into the first `size` bytes of `space`; returns `size`, or 0 when
    /// the space is short or encoding failed (sizing succeeded, so that means a bug).
    package func write(into space: UnsafeMutableRawBufferPointer) -> Int {
        guard space.count >= size else { return 0 }
        if let header = message.header {
            guard (try? header.write(into: space, payloadSize: messageSize)) == frameHeaderSize else { return 0 }
        } else if frameHeaderSize > 0 {
            space.storeBytes(of: UInt32(messageSize).bigEndian, as: UInt32.self)
        }
        let body = UnsafeMutableRawBufferPointer(rebasing: space[frameHeaderSize..<size])
        if let transformed {
            transformed.withUnsafeBytes { body.copyMemory(from: $0) }
            return size
        }
        guard let written = try? message.encode(protocol: protocolID, into: body), written == messageSize else { return 0 }
        return size
    }
}
