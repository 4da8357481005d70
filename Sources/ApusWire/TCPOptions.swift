/// One SACK block (RFC 2018 §3): the octets `left ..< right` were received.
public struct SACKBlock: Sendable, Hashable, CustomStringConvertible {
    /// The first sequence number of the block.
    public var left: SequenceNumber
    /// The sequence number just after the block.
    public var right: SequenceNumber

    @inlinable
    public init(left: SequenceNumber, right: SequenceNumber) {
        self.left = left
        self.right = right
    }

    public var description: String { "\(left)..<\(right)" }
}

/// Up to four SACK blocks, stored inline so parsing a segment never allocates.
/// Four is all that fits in 40 bytes of options (RFC 2018 §3).
public struct SACKBlocks: RandomAccessCollection, Sendable, Hashable, CustomStringConvertible {
    @usableFromInline var storage: (SACKBlock, SACKBlock, SACKBlock, SACKBlock)
    @usableFromInline var _count: Int

    /// The most blocks one option can carry.
    @inlinable public static var capacity: Int { 4 }

    @inlinable
    public init() {
        let empty = SACKBlock(left: SequenceNumber(0), right: SequenceNumber(0))
        self.storage = (empty, empty, empty, empty)
        self._count = 0
    }

    /// The first four of `blocks`.
    @inlinable
    public init(_ blocks: some Sequence<SACKBlock>) {
        self.init()
        for block in blocks {
            if !append(block) { break }
        }
    }

    /// Adds `block` unless four are already there; returns whether it was added.
    @inlinable @discardableResult
    public mutating func append(_ block: SACKBlock) -> Bool {
        switch _count {
        case 0: storage.0 = block
        case 1: storage.1 = block
        case 2: storage.2 = block
        case 3: storage.3 = block
        default: return false
        }
        _count += 1
        return true
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { _count }

    @inlinable
    public subscript(position: Int) -> SACKBlock {
        precondition(position >= 0 && position < _count, "SACK block index out of range")
        switch position {
        case 0: return storage.0
        case 1: return storage.1
        case 2: return storage.2
        default: return storage.3
        }
    }

    @inlinable
    public static func == (lhs: SACKBlocks, rhs: SACKBlocks) -> Bool { lhs.elementsEqual(rhs) }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(_count)
        for block in self { hasher.combine(block) }
    }

    public var description: String { "[" + map(\.description).joined(separator: ", ") + "]" }
}

/// The TCP timestamps option (RFC 7323 §3.2): TSval and TSecr.
public struct TCPTimestamps: Sendable, Hashable {
    /// TSval: the sender's clock when it sent the segment.
    public var value: UInt32
    /// TSecr: the most recent TSval received from the peer (zero when ACK is not set).
    public var echoReply: UInt32

    @inlinable
    public init(value: UInt32, echoReply: UInt32) {
        self.value = value
        self.echoReply = echoReply
    }
}

/// The TCP options Apus understands (RFC 9293 §3.2 and the RFCs each field cites).
///
/// A value, not a list: parsing keeps the last occurrence of each option and
/// steps over unknown kinds by their length, so a peer's experimental options
/// cost nothing; only option lengths that cannot be right are an error.
public struct TCPOptions: Sendable, Hashable {
    /// Kind 2 (RFC 9293 §3.7.1): the largest segment the peer will receive. SYN only.
    public var maximumSegmentSize: UInt16?
    /// Kind 3 (RFC 7323 §2): the shift count for the peer's windows. Values above 14 are
    /// read as 14, as RFC 7323 §2.3 requires. SYN only.
    public var windowScale: UInt8?
    /// Kind 4 (RFC 2018 §2): the peer accepts SACK blocks. SYN only.
    public var sackPermitted: Bool
    /// Kind 8 (RFC 7323 §3): RTT measurement and PAWS.
    public var timestamps: TCPTimestamps?
    /// Kind 5 (RFC 2018 §3): what the peer holds beyond the cumulative ACK.
    public var sackBlocks: SACKBlocks

    @inlinable
    public init(maximumSegmentSize: UInt16? = nil, windowScale: UInt8? = nil, sackPermitted: Bool = false,
                timestamps: TCPTimestamps? = nil, sackBlocks: SACKBlocks = SACKBlocks()) {
        self.maximumSegmentSize = maximumSegmentSize
        self.windowScale = windowScale
        self.sackPermitted = sackPermitted
        self.timestamps = timestamps
        self.sackBlocks = sackBlocks
    }

    @usableFromInline enum Kind {
        @inlinable static var endOfList: UInt8 { 0 }
        @inlinable static var noOperation: UInt8 { 1 }
        @inlinable static var maximumSegmentSize: UInt8 { 2 }
        @inlinable static var windowScale: UInt8 { 3 }
        @inlinable static var sackPermitted: UInt8 { 4 }
        @inlinable static var sack: UInt8 { 5 }
        @inlinable static var timestamps: UInt8 { 8 }
    }

    /// The largest shift RFC 7323 §2.3 allows (a window of 2^30).
    @inlinable public static var maximumWindowScale: UInt8 { 14 }
    /// What fits between a 20-byte header and the 60 bytes a data offset can express.
    @inlinable public static var maximumLength: Int { 40 }

    /// Parses the option bytes of a segment (`TCPSegment.optionBytes`).
    ///
    /// EOL ends the list (what follows is padding); NOP is skipped; every other kind must
    /// have a length byte of at least 2 that stays within the bytes, or parsing throws
    /// `malformed` (RFC 9293 §3.1 asks that illegal lengths be handled without crashing).
    /// Known kinds must have their defined lengths, so a bad MSS is not read from the
    /// next option's bytes.
    @inlinable
    public init(parsing bytes: UnsafeRawBufferPointer) throws(WireError) {
        self.init()
        var offset = 0
        while offset < bytes.count {
            let kind = bytes[offset]
            if kind == Kind.endOfList { break }
            if kind == Kind.noOperation {
                offset += 1
                continue
            }
            guard offset + 1 < bytes.count else { throw WireError(.malformed, .tcp, "option without length") }
            let length = Int(bytes[offset + 1])
            guard length >= 2 else { throw WireError(.malformed, .tcp, "option length below 2") }
            guard length <= bytes.count - offset else { throw WireError(.malformed, .tcp, "option past header") }
            let value = offset + 2
            switch kind {
            case Kind.maximumSegmentSize:
                guard length == 4 else { throw WireError(.malformed, .tcp, "MSS length is not 4") }
                maximumSegmentSize = bytes.bigEndian(value..<value + 2)
            case Kind.windowScale:
                guard length == 3 else { throw WireError(.malformed, .tcp, "window scale length is not 3") }
                windowScale = min(bytes[value], Self.maximumWindowScale)
            case Kind.sackPermitted:
                guard length == 2 else { throw WireError(.malformed, .tcp, "SACK-permitted length is not 2") }
                sackPermitted = true
            case Kind.sack:
                guard length >= 10 && (length - 2) % 8 == 0 else {
                    throw WireError(.malformed, .tcp, "SACK length is not 2 + 8n")
                }
                var blocks = SACKBlocks()
                for start in stride(from: value, to: offset + length, by: 8) {
                    blocks.append(SACKBlock(left: SequenceNumber(bytes.bigEndian(start..<start + 4)),
                                            right: SequenceNumber(bytes.bigEndian(start + 4..<start + 8))))
                }
                sackBlocks = blocks
            case Kind.timestamps:
                guard length == 10 else { throw WireError(.malformed, .tcp, "timestamps length is not 10") }
                timestamps = TCPTimestamps(value: bytes.bigEndian(value..<value + 4),
                                           echoReply: bytes.bigEndian(value + 4..<value + 8))
            default:
                break
            }
            offset += length
        }
    }

    /// Bytes `emit` writes: always a multiple of 4, so no EOL padding is needed.
    @inlinable
    public var encodedLength: Int {
        var length = 0
        if maximumSegmentSize != nil { length += 4 }
        if timestamps != nil { length += 12 } else if sackPermitted { length += 4 }
        if windowScale != nil { length += 4 }
        if !sackBlocks.isEmpty { length += 4 + 8 * sackBlocks.count }
        return length
    }

    /// Writes the options in the order and alignment Linux uses (`tcp_options_write`), so
    /// emitted SYNs look like the kernel's to middleboxes and to tests:
    /// MSS; SACK-permitted merged with timestamps (or NOP-padded); NOP + window scale;
    /// NOP NOP + SACK. The caller has checked `encodedLength` against the buffer.
    @inlinable
    func emit(into buffer: UnsafeMutableRawBufferPointer) {
        var offset = 0
        func put(_ byte: UInt8) {
            buffer[offset] = byte
            offset += 1
        }
        func put32(_ word: UInt32) {
            buffer.storeBigEndian(word, offset..<offset + 4)
            offset += 4
        }
        if let maximumSegmentSize {
            put(Kind.maximumSegmentSize); put(4)
            buffer.storeBigEndian(maximumSegmentSize, offset..<offset + 2)
            offset += 2
        }
        if let timestamps {
            if sackPermitted {
                put(Kind.sackPermitted); put(2)
            } else {
                put(Kind.noOperation); put(Kind.noOperation)
            }
            put(Kind.timestamps); put(10)
            put32(timestamps.value)
            put32(timestamps.echoReply)
        } else if sackPermitted {
            put(Kind.noOperation); put(Kind.noOperation)
            put(Kind.sackPermitted); put(2)
        }
        if let windowScale {
            put(Kind.noOperation)
            put(Kind.windowScale); put(3); put(windowScale)
        }
        if !sackBlocks.isEmpty {
            put(Kind.noOperation); put(Kind.noOperation)
            put(Kind.sack); put(UInt8(2 + 8 * sackBlocks.count))
            for block in sackBlocks {
                put32(block.left.rawValue)
                put32(block.right.rawValue)
            }
        }
        assert(offset == encodedLength)
    }
}
