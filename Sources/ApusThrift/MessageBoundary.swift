/// Finds where a message ends on a byte stream, without copying.
/// "Not yet" (`nil`) is a normal answer: the caller reads more and asks again.
public enum MessageBoundary {
    /// Length of the frame header in framed transport.
    public static let frameHeaderSize = 4

    /// For framed transport: the payload range of the first frame when all
    /// of it is in `buffer`, or nil when more bytes are needed. The length is
    /// checked against `limits.maxFrameSize` as soon as the 4 header bytes
    /// are in, before anything is buffered.
    @inlinable
    public static func frame(in buffer: UnsafeRawBufferPointer, limits: ThriftLimits = .default) throws(ThriftError) -> Range<Int>? {
        guard buffer.count >= frameHeaderSize else { return nil }
        let length = try frameLength(UInt32(bigEndian: buffer.loadUnaligned(as: UInt32.self)), limits: limits)
        guard buffer.count - frameHeaderSize >= length else { return nil }
        return frameHeaderSize..<(frameHeaderSize + length)
    }

    /// Validates a frame header's length.
    @inlinable
    public static func frameLength(_ raw: UInt32, limits: ThriftLimits = .default) throws(ThriftError) -> Int {
        let length = Int(Int32(bitPattern: raw))
        guard length >= 0 else {
            throw ThriftError.cold(.negativeSize, offset: 0, detail: { "frame length \(length) is negative" })
        }
        guard length <= limits.maxFrameSize else {
            throw ThriftError.cold(.sizeLimit, offset: 0, limit: limits.maxFrameSize,
                              detail: { "frame of \(length) bytes exceeds the maximum frame size" })
        }
        return length
    }

    /// For buffered (unframed) transport: the length of the first complete
    /// message in `buffer`, found by walking it (header, then the body struct),
    /// or nil when more bytes are needed. Malformed input throws at once;
    /// a message still incomplete at `limits.maxMessageSize` bytes throws `.sizeLimit`.
    public static func message(
        in buffer: UnsafeRawBufferPointer, protocol protocolID: ThriftProtocolID, limits: ThriftLimits = .default
    ) throws(ThriftError) -> Int? {
        do throws(ThriftError) {
            switch protocolID {
            case .binary:
                var reader = BinaryReader(buffer, limits: limits)
                _ = try reader.readMessageBegin()
                try reader.skip(.struct)
                return try checked(reader.offset, limits: limits, protocolID: protocolID)
            case .compact:
                var reader = CompactReader(buffer, limits: limits)
                _ = try reader.readMessageBegin()
                try reader.skip(.struct)
                return try checked(reader.offset, limits: limits, protocolID: protocolID)
            }
        } catch where error.kind == .truncated {
            if buffer.count >= limits.maxMessageSize {
                throw ThriftError.cold(.sizeLimit, protocolID: protocolID, offset: buffer.count, limit: limits.maxMessageSize,
                                  detail: { "message not complete within the maximum message size" })
            }
            return nil
        }
    }

    static func checked(_ length: Int, limits: ThriftLimits, protocolID: ThriftProtocolID) throws(ThriftError) -> Int {
        guard length <= limits.maxMessageSize else {
            throw ThriftError.cold(.sizeLimit, protocolID: protocolID, offset: length, limit: limits.maxMessageSize,
                              detail: { "message of \(length) bytes exceeds the maximum message size" })
        }
        return length
    }
}
