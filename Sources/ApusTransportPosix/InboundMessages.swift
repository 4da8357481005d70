import ApusRPC
import ApusThrift
import NIOCore

/// A connection's received bytes cut into messages, shared by the server's
/// and the client's channel handlers.
///
/// Messages that arrive whole are handed over straight from NIO's read
/// buffer; only an incomplete tail is kept (and grown once to the announced
/// frame size, not step by step).
struct InboundMessages {
    private var framer: MessageFramer
    private var cumulation: ByteBuffer?

    init(_ framer: MessageFramer) { self.framer = framer }

    /// Bytes held for an incomplete message.
    var pendingBytes: Int { cumulation?.readableBytes ?? 0 }

    var limits: ThriftLimits { framer.limits }

    mutating func reset() { cumulation = nil }

    /// Adds `incoming` and calls `body` with each complete message (bytes valid
    /// during the call, its protocol, the connection's framing) while
    /// `isOpen()`. Returns the error that made the stream unusable: what is
    /// left is dropped and the caller closes the connection.
    mutating func receive(
        _ incoming: inout ByteBuffer, isOpen: () -> Bool = { true },
        _ body: (UnsafeRawBufferPointer, ThriftProtocolID, ThriftFraming) throws(ThriftError) -> Void
    ) -> ThriftError? {
        guard cumulation != nil else {
            let failure = Self.drain(&incoming, framer: &framer, isOpen: isOpen, body)
            if failure == nil && incoming.readableBytes > 0 { cumulation = incoming }
            return failure
        }
        cumulation!.writeBuffer(&incoming)
        let failure = Self.drain(&cumulation!, framer: &framer, isOpen: isOpen, body)
        if failure != nil || cumulation!.readableBytes == 0 {
            cumulation = nil
        } else if cumulation!.readerIndex > cumulation!.capacity / 2 {
            cumulation!.discardReadBytes()
        }
        return failure
    }

    private static func drain(
        _ buffer: inout ByteBuffer, framer: inout MessageFramer, isOpen: () -> Bool,
        _ body: (UnsafeRawBufferPointer, ThriftProtocolID, ThriftFraming) throws(ThriftError) -> Void
    ) -> ThriftError? {
        while buffer.readableBytes > 0 && isOpen() {
            var expectedTotal: Int?
            let step: Result<Int?, ThriftError> = buffer.withUnsafeReadableBytes { bytes in
                do throws(ThriftError) {
                    guard let message = try framer.next(in: bytes, expectedTotal: &expectedTotal) else { return .success(nil) }
                    try body(UnsafeRawBufferPointer(rebasing: bytes[message.range]), message.protocolID, framer.framing ?? .framed)
                    return .success(message.consumed)
                } catch {
                    return .failure(error)
                }
            }
            switch step {
            case .success(let consumed?):
                buffer.moveReaderIndex(forwardBy: consumed)
            case .success(nil):
                if let expectedTotal, expectedTotal > buffer.readableBytes, buffer.capacity - buffer.readerIndex < expectedTotal {
                    buffer.reserveCapacity(minimumWritableBytes: expectedTotal - buffer.readableBytes)
                }
                return nil
            case .failure(let error):
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                return error
            }
        }
        return nil
    }
}
