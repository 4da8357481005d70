import ApusThrift

/// Turns a connection's received bytes into complete Thrift messages, for
/// both ends of a connection and both transports.
///
/// Messages that arrive whole are handed out as views of the caller's bytes
/// (a NIO read buffer, a UMEM frame): no copy. Only a message that spans reads
/// is copied, once, into the reader's own buffer, which grows with the bytes
/// received (capped at the size a frame header announced), and is handed out
/// from there when complete. Work is linear in the bytes received, framed or
/// unframed (`MessageFramer`).
package struct MessageReader: ~Copyable {
    package private(set) var framer: MessageFramer
    private var partial = ByteQueue()
    /// The bytes of a message handed out from `partial`, dropped at the next call.
    private var handedOut = 0
    /// The full size of the message in `partial`, once its frame header is in.
    private var expectedTotal: Int?
    /// A THeader payload with its transforms (zlib) undone, handed out until the next call.
    private var untransformed = ByteQueue()

    package init(framing: ThriftFraming?, protocol protocolID: ThriftProtocolID?, limits: ThriftLimits) {
        framer = MessageFramer(framing: framing, protocol: protocolID, limits: limits)
    }

    /// Bytes held for a message not yet complete.
    package var bufferedBytes: Int { partial.count - handedOut }

    /// The connection's framing: configured, or sniffed from its first bytes (nil before them).
    package var framing: ThriftFraming? { framer.framing }

    package var limits: ThriftLimits { framer.limits }

    /// Received bytes and how far they have been read.
    package struct Input {
        package let bytes: UnsafeRawBufferPointer
        package private(set) var offset = 0

        package init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        package var isExhausted: Bool { offset >= bytes.count }

        fileprivate var rest: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[offset...]) }
        fileprivate mutating func advance(_ count: Int) { offset += count }
    }

    /// A complete message: its bytes (without a frame header) and protocol.
    package struct Message {
        /// Valid until the next call on the reader (a view of the input or of the reader's buffer).
        package var bytes: UnsafeRawBufferPointer
        package var protocolID: ThriftProtocolID
        /// It spanned reads and was copied once into the reader's buffer.
        package var wasReassembled: Bool
        /// The THeader it came in (metadata, and the form its reply must take), if any.
        package var header: THeader? = nil
    }

    /// The next complete message, reading from `input` only as far as that message goes;
    /// nil when `input` is used up without completing one (what was read is kept).
    /// Throws when the stream is malformed or over a limit: nothing after that can be trusted.
    package mutating func next(from input: inout Input) throws(ThriftError) -> Message? {
        if !untransformed.isEmpty { untransformed.removeAll() }
        guard let message = try nextFramed(from: &input) else { return nil }
        guard let header = message.header, !header.transforms.isEmpty else { return message }
        let bytes = try THeaderTransforms.decode(message.bytes, transforms: header.transforms, limit: framer.limits.maxFrameSize)
        guard let first = bytes.first, ThriftProtocolID(sniffing: first) == header.protocolID else {
            throw ThriftError(.invalidFrame, offset: 0, detail: "THeader payload, once its transforms are undone, is not a \(header.protocolID) message")
        }
        bytes.withUnsafeBytes { untransformed.append($0) }
        var undone = message
        undone.bytes = untransformed.readable
        return undone
    }

    private mutating func nextFramed(from input: inout Input) throws(ThriftError) -> Message? {
        if handedOut > 0 {
            partial.removeFirst(handedOut)
            handedOut = 0
        }
        guard partial.isEmpty else { return try continuePartial(from: &input) }
        guard !input.isExhausted else { return nil }
        let rest = input.rest
        var expected: Int?
        if let message = try framer.next(in: rest, expectedTotal: &expected) {
            input.advance(message.consumed)
            return Message(bytes: UnsafeRawBufferPointer(rebasing: rest[message.range]), protocolID: message.protocolID,
                           wasReassembled: false, header: message.header)
        }
        // The start of a message that continues in later reads: keep it.
        expectedTotal = expected
        partial.append(rest, limit: expected ?? .max)
        input.advance(rest.count)
        return nil
    }

    private mutating func continuePartial(from input: inout Input) throws(ThriftError) -> Message? {
        while true {
            // Framed: take just what the message still needs (the frame header first), so
            // messages pipelined behind it are read in place. Unframed: take all there is.
            let wanted: Int
            if framer.framing == .framed {
                wanted = (expectedTotal ?? MessageBoundary.frameHeaderSize) - partial.count
            } else {
                wanted = .max
            }
            let taken = min(max(wanted, 0), input.bytes.count - input.offset)
            if taken > 0 {
                partial.append(UnsafeRawBufferPointer(rebasing: input.bytes[input.offset..<(input.offset + taken)]),
                               limit: expectedTotal ?? .max)
                input.advance(taken)
            }
            var expected: Int?
            if let message = try framer.next(in: partial.readable, expectedTotal: &expected) {
                expectedTotal = nil
                handedOut = message.consumed
                return Message(bytes: UnsafeRawBufferPointer(rebasing: partial.readable[message.range]), protocolID: message.protocolID,
                               wasReassembled: true, header: message.header)
            }
            expectedTotal = expected
            // More is needed: go on only when a frame header just completed and input remains.
            guard framer.framing == .framed, expected != nil, partial.count < expected!, !input.isExhausted else { return nil }
        }
    }

    /// Keeps the rest of `input` for later calls (the caller stops reading for now, e.g. while
    /// replies are owed): it is read, messages and all, before any new input.
    package mutating func stash(_ input: inout Input) {
        if handedOut > 0 {
            partial.removeFirst(handedOut)
            handedOut = 0
        }
        guard !input.isExhausted else { return }
        let rest = input.rest
        partial.append(rest)
        input.advance(rest.count)
    }

    /// Drops everything held (the connection is gone or can no longer be trusted).
    package mutating func reset() {
        partial.removeAll()
        untransformed.removeAll()
        handedOut = 0
        expectedTotal = nil
    }
}
