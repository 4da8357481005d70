/// Cuts a connection's byte stream into messages, for any transport.
///
/// Framing and protocol are configured or, when nil, sniffed from the first
/// bytes of the connection: a stream whose first byte is `0x80` (strict
/// binary) or `0x82` (compact) is unframed; anything else is taken as a
/// frame length (a legal one starts with `0x00`, since frames are below
/// 16 MB by default). The protocol of each message is sniffed from its first
/// byte. Limits apply before anything is buffered: a frame header announcing
/// more than `limits.maxFrameSize` fails at once, and an unframed message
/// still incomplete at `limits.maxMessageSize` bytes fails too.
///
/// An unframed message is walked by an `UnframedMessageScanner` that resumes
/// where the last call stopped, so a message trickling in over many reads
/// costs work linear in its size (re-walking it from its first byte on every
/// read was quadratic): after a nil, call `next` again with bytes that start
/// at the same message start.
public struct MessageFramer: Sendable {
    public private(set) var framing: ThriftFraming?
    public let configuredProtocol: ThriftProtocolID?
    public let limits: ThriftLimits
    /// Kept between messages (reset, not rebuilt), so unframed reading allocates nothing per message.
    private var scanner: UnframedMessageScanner?
    private var scannerProtocol: ThriftProtocolID?

    public init(framing: ThriftFraming?, protocol protocolID: ThriftProtocolID?, limits: ThriftLimits) {
        self.framing = framing
        self.configuredProtocol = protocolID
        self.limits = limits
    }

    /// A complete message found at the start of the bytes.
    public struct Message: Equatable, Sendable {
        /// Where the message (header and body, without a frame header) lies.
        public var range: Range<Int>
        /// Bytes to consume, frame header included.
        public var consumed: Int
        /// The message's protocol (sniffed or configured).
        public var protocolID: ThriftProtocolID
        /// The THeader the message came in, if it came in one (its payload is `range`).
        public var header: THeader?

        public init(range: Range<Int>, consumed: Int, protocolID: ThriftProtocolID, header: THeader? = nil) {
            self.range = range
            self.consumed = consumed
            self.protocolID = protocolID
            self.header = header
        }
    }

    /// The first complete message in `bytes`, or nil when more bytes are needed.
    /// `expectedTotal` is set to the full size of the first message when known
    /// (a frame header was read), so the caller can size its buffer.
    ///
    /// After a nil, the next call must pass bytes starting where this call's did
    /// (the same message, with more after it).
    public mutating func next(in bytes: UnsafeRawBufferPointer, expectedTotal: inout Int?) throws(ThriftError) -> Message? {
        expectedTotal = nil
        guard let first = bytes.first else { return nil }
        let framing = self.framing ?? ((first == 0x80 || first == 0x82) ? .buffered : .framed)
        self.framing = framing
        switch framing {
        case .framed:
            guard bytes.count >= MessageBoundary.frameHeaderSize else { return nil }
            let length = try MessageBoundary.frameLength(UInt32(bigEndian: bytes.loadUnaligned(as: UInt32.self)), limits: limits)
            expectedTotal = MessageBoundary.frameHeaderSize + length
            guard bytes.count >= MessageBoundary.frameHeaderSize + length else { return nil }
            guard length > 0 else { throw ThriftError(.invalidFrame, offset: 0, detail: "empty frame") }
            // THeader and TTHeader: the frame starts with the magic 0x0FFF or 0x1000 (no Thrift
            // message starts so: binary starts 0x80, compact 0x82).
            if length >= 2 && ((bytes[4] == 0x0F && bytes[5] == 0xFF) || (bytes[4] == 0x10 && bytes[5] == 0x00)) {
                return try headerFrame(bytes, length: length)
            }
            let protocolID = try resolveProtocol(bytes[MessageBoundary.frameHeaderSize], offset: MessageBoundary.frameHeaderSize)
            return Message(range: MessageBoundary.frameHeaderSize..<(MessageBoundary.frameHeaderSize + length),
                           consumed: MessageBoundary.frameHeaderSize + length, protocolID: protocolID)
        case .buffered:
            let protocolID = try resolveProtocol(first, offset: 0)
            if scannerProtocol != protocolID {
                scanner = UnframedMessageScanner(protocol: protocolID, limits: limits)
                scannerProtocol = protocolID
            }
            do throws(ThriftError) {
                guard let length = try scanner!.scan(bytes) else { return nil }
                scanner!.reset()
                return Message(range: 0..<length, consumed: length, protocolID: protocolID)
            } catch {
                scanner!.reset()
                throw error
            }
        }
    }

    /// A THeader or TTHeader frame: the message is its payload, in the protocol the header names.
    private func headerFrame(_ bytes: UnsafeRawBufferPointer, length: Int) throws(ThriftError) -> Message {
        let start = MessageBoundary.frameHeaderSize
        let frame = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)])
        let (header, payload) = try THeader.parse(frame, limits: limits)
        let name = header.format == .theader ? "THeader" : "TTHeader"
        if let configuredProtocol, configuredProtocol != header.protocolID {
            throw ThriftError(.badVersion, offset: start, detail: "\(name) carries \(header.protocolID), the server takes \(configuredProtocol)")
        }
        if header.format == .ttheader && header.flags & 0x0002 != 0 {
            throw ThriftError(.invalidFrame, offset: start + 2,
                              detail: "TTHeader streaming frame (flag 0x0002): Apus serves unary calls only")
        }
        for transform in header.transforms where transform != .zlib {
            throw ThriftError(.invalidFrame, offset: start, detail: "\(name): unknown transform \(transform.rawValue) (Apus supports zlib, 1)")
        }
        if header.transforms.isEmpty {  // transformed payloads are checked once undone (MessageReader)
            guard !payload.isEmpty, ThriftProtocolID(sniffing: frame[payload.lowerBound]) == header.protocolID else {
                throw ThriftError(.invalidFrame, offset: start + payload.lowerBound,
                                  detail: "\(name) payload is not a \(header.protocolID) message")
            }
        }
        return Message(range: (start + payload.lowerBound)..<(start + payload.upperBound), consumed: start + length,
                       protocolID: header.protocolID, header: header)
    }

    private func resolveProtocol(_ byte: UInt8, offset: Int) throws(ThriftError) -> ThriftProtocolID {
        if let configuredProtocol { return configuredProtocol }
        guard let sniffed = ThriftProtocolID(sniffing: byte) else {
            throw ThriftError(.badVersion, offset: offset, detail: "byte 0x\(String(byte, radix: 16)) starts no Thrift message")
        }
        return sniffed
    }
}

