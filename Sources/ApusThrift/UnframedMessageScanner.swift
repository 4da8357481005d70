/// Finds where an unframed ("buffered") message ends while its bytes are
/// still arriving, resuming where the previous call stopped.
///
/// Without a length prefix the end of a message is found by walking it, as
/// `MessageBoundary.message` does. Walking again from the first byte on
/// every TCP segment costs O(n²) for a message that trickles in (a 1 MB
/// message in 1,460-byte segments would be walked over 700 times). The scanner
/// keeps its place instead: the offset of the next unread token and an
/// explicit stack of what is still open (the readers' recursion, unrolled).
/// Progress is committed one whole token at a time: a field header, a
/// scalar, a container header, a string's length with its bytes. A token
/// not all there yet is left for the next call, and a call that brings too
/// few bytes to finish it returns without looking at any.
///
/// Linear work: each byte of the message is examined once, plus, per call
/// that returns nil, the part of the unfinished token it saw (a varint, a
/// string's length, a container header: at most 9 bytes), which the next
/// call reads again. For a message of n bytes found after k calls,
/// `bytesExamined` ≤ n + 9·k, and k ≤ n + 1 when every call brings a byte.
///
/// It accepts and rejects exactly what `MessageBoundary.message` does, with
/// the same `ThriftError`s: each token is checked by the rules of
/// `BinaryReader`, `CompactReader` and `ThriftProtocolReader.skip`, in their
/// order, including the readers' look-ahead (a container whose element count
/// cannot fit in the bytes present is "need more" before any element is
/// read), and nesting is counted against `limits.maxDepth` as they count it.
/// After the scanner throws, the message is malformed: call `reset` before
/// the next one.
public struct UnframedMessageScanner: Sendable {
    /// What the walk has still to read.
    enum Frame: Sendable {
        /// The message's first token: binary's first word (with the name,
        /// when the word is an old header's name length), or compact's
        /// protocol id and version byte.
        case messageStart
        /// An old binary header's message type byte, after the name.
        case binaryMessageType
        /// One value: the header's name or sequence id, the body, or a
        /// field's value when its header came without it.
        case value(ThriftType)
        /// A struct's fields: a field header or the stop byte comes next.
        case fields
        /// The rest of a list's or set's elements.
        case elements(ThriftType, remaining: Int)
        /// The rest of a map's keys and values, alternately: a key when `remaining` is even.
        case entries(key: ThriftType, value: ThriftType, remaining: Int)
        /// Below everything: the message is complete.
        case end
    }

    /// What a value's first token turned out to be.
    enum ValueStep {
        /// The whole value: a scalar, or a container skipped in one step.
        case done
        /// A struct or a container with elements: its frame goes on the stack.
        case opened(Frame)
    }

    /// What a field header announced.
    enum FieldStep {
        case stop
        case value(ThriftType)
        /// A compact bool field: its value is the header's type nibble.
        case valueInHeader
    }

    private let protocolID: ThriftProtocolID
    private let limits: ThriftLimits
    /// The innermost frame, kept out of `below` so that counting down a
    /// container's elements is a plain store.
    private var top = Frame.messageStart
    /// The frames under `top`, innermost last; `.end` at the bottom.
    private var below: [Frame] = []
    /// Where the next unread token starts; everything before it is checked.
    private var offset = 0
    /// Open structs and containers, as the readers count them against `limits.maxDepth`.
    private var depth = 0
    /// The fewest bytes with which the unfinished token can get further.
    private var resumeAt = 0
    /// Bytes looked at since the last reset, a byte read twice counting
    /// twice and skipped string and element bytes counting too: the measure
    /// the linear-work guarantee is stated in.
    package private(set) var bytesExamined = 0

    public init(protocol protocolID: ThriftProtocolID, limits: ThriftLimits) {
        self.protocolID = protocolID
        self.limits = limits
        below.reserveCapacity(16)
        reset()
    }

    /// `bytes` starts at the message's first byte; between calls it only
    /// grows (same prefix, more bytes after).
    ///
    /// Returns the message's total length once it is complete (bytes beyond
    /// it belong to the next message and are not examined), or nil when more
    /// bytes are needed. Throws on malformed input, on a limit exceeded
    /// (depth, string size, container size, message size), and with
    /// `.sizeLimit` when the message is still incomplete at
    /// `limits.maxMessageSize` bytes: the cases `MessageBoundary.message` throws for.
    public mutating func scan(_ bytes: UnsafeRawBufferPointer) throws(ThriftError) -> Int? {
        if case .end = top {} else {
            guard bytes.count >= resumeAt, try walk(bytes) else {
                guard bytes.count < limits.maxMessageSize else {
                    throw ThriftError.cold(.sizeLimit, protocolID: protocolID, offset: bytes.count, limit: limits.maxMessageSize,
                                           detail: { "message not complete within the maximum message size" })
                }
                return nil
            }
        }
        return try MessageBoundary.checked(offset, limits: limits, protocolID: protocolID)
    }

    /// Forgets the progress, for the next message. The stack keeps its capacity.
    public mutating func reset() {
        below.removeAll(keepingCapacity: true)
        below.append(.end)
        below.append(.value(.struct))
        top = .messageStart
        offset = 0
        depth = 0
        resumeAt = 0
        bytesExamined = 0
    }

    // MARK: The walk

    /// Reads whole tokens from `offset` until the message ends (true) or
    /// the next token is not all in `bytes` (false, with `resumeAt` set).
    private mutating func walk(_ bytes: UnsafeRawBufferPointer) throws(ThriftError) -> Bool {
        assert(bytes.count >= offset, "the bytes of a message only grow between calls")
        var cursor = ByteCursor(bytes)
        cursor.offset = offset
        var needed = 0
        while true {
            switch top {
            case .end:
                return true
            case .messageStart:
                let next = try protocolID == .binary
                    ? binaryMessageStart(&cursor, &needed) : compactMessageStart(&cursor, &needed)
                guard let next else { return stall(cursor, needed) }
                below.append(next.then)
                top = next.first
            case .binaryMessageType:
                guard let byte = cursor.readByte() else { return stall(cursor, cursor.offset + 1) }
                _ = try BinaryReader.messageType(byte, at: cursor.offset - 1)
                top = below.removeLast()
            case .value(let type):
                guard let step = try value(type, inList: false, &cursor, &needed) else { return stall(cursor, needed) }
                if case .opened(let inner) = step {
                    top = inner
                    depth &+= 1
                } else {
                    top = below.removeLast()
                }
            case .fields:
                let field = try protocolID == .binary
                    ? binaryFieldHeader(&cursor, &needed) : compactFieldHeader(&cursor, &needed)
                switch field {
                case nil:
                    return stall(cursor, needed)
                case .stop:
                    close()
                case .value(let type):
                    // The value right after its header when it is there; if not,
                    // the header is kept and the value waits in a frame of its own.
                    commit(cursor)
                    guard let step = try value(type, inList: false, &cursor, &needed) else {
                        below.append(.fields)
                        top = .value(type)
                        return stall(cursor, needed)
                    }
                    if case .opened(let inner) = step { open(inner, under: .fields) }
                case .valueInHeader:
                    break
                }
            case .elements(let type, let remaining):
                if remaining == 0 {
                    close()
                    continue
                }
                guard let step = try value(type, inList: true, &cursor, &needed) else { return stall(cursor, needed) }
                top = .elements(type, remaining: remaining - 1)
                if case .opened(let inner) = step { open(inner, under: top) }
            case .entries(let keyType, let valueType, let remaining):
                if remaining == 0 {
                    close()
                    continue
                }
                let type = remaining & 1 == 0 ? keyType : valueType
                guard let step = try value(type, inList: false, &cursor, &needed) else { return stall(cursor, needed) }
                top = .entries(key: keyType, value: valueType, remaining: remaining - 1)
                if case .opened(let inner) = step { open(inner, under: top) }
            }
            commit(cursor)
        }
    }

    /// Keeps everything up to the cursor.
    private mutating func commit(_ cursor: ByteCursor) {
        bytesExamined &+= cursor.offset &- offset
        offset = cursor.offset
    }

    /// Leaves the unfinished token for a later call that has `needed` bytes.
    private mutating func stall(_ cursor: ByteCursor, _ needed: Int) -> Bool {
        bytesExamined &+= cursor.offset &- offset
        resumeAt = needed
        return false
    }

    /// A struct or container begins inside `outer` (what `top` was).
    private mutating func open(_ frame: Frame, under outer: Frame) {
        below.append(outer)
        top = frame
        depth &+= 1
    }

    /// The innermost struct or container ends.
    private mutating func close() {
        top = below.removeLast()
        depth &-= 1
    }

    /// A struct or container starts at `position`: the readers' `enter()`,
    /// checked before any of its bytes are read.
    private func checkDepth(at position: Int) throws(ThriftError) {
        guard depth < limits.maxDepth else {
            throw ThriftError.cold(.depthLimit, protocolID: protocolID, offset: position, limit: limits.maxDepth,
                                   detail: { "structs and containers nest deeper than the limit" })
        }
    }

    /// The first token of a value of `type`: the whole of a scalar, or a
    /// struct's start or a container's header. List and set elements follow
    /// the readers' `skipElements` rules, everything else their `skip`.
    private func value(_ type: ThriftType, inList: Bool, _ cursor: inout ByteCursor, _ needed: inout Int) throws(ThriftError) -> ValueStep? {
        switch protocolID {
        case .binary: try binaryValue(type, &cursor, &needed)
        case .compact: try compactValue(type, inList: inList, &cursor, &needed)
        }
    }

    // MARK: Tokens shared by both protocols

    /// Skips `width` bytes when they are all there.
    private func fixed(_ width: Int, _ cursor: inout ByteCursor, _ needed: inout Int) -> ValueStep? {
        guard cursor.remaining >= width else {
            needed = cursor.offset + width
            return nil
        }
        cursor.offset &+= width
        return .done
    }

    /// A string's bytes after its length (read at `start`), checked as `readBinary` checks them.
    private func payload(_ length: Int, at start: Int, what: StaticString,
                         _ cursor: inout ByteCursor, _ needed: inout Int) throws(ThriftError) -> ValueStep? {
        guard length >= 0 else {
            throw ThriftError.cold(.negativeSize, protocolID: protocolID, offset: start, detail: { "\(what) length \(length)" })
        }
        guard length <= limits.maxStringSize else {
            throw ThriftError.cold(.sizeLimit, protocolID: protocolID, offset: start, limit: limits.maxStringSize,
                                   detail: { "\(what) of \(length) bytes" })
        }
        return fixed(length, &cursor, &needed)
    }

    /// A container's element count read at `start`, checked as the readers
    /// check it: not negative, within the limit, and not more elements than
    /// the bytes present can hold (else "need more", before any element).
    private func count(_ count: Int, at start: Int, elementBytes: Int, what: StaticString,
                       _ cursor: inout ByteCursor, _ needed: inout Int) throws(ThriftError) -> Int? {
        guard count >= 0 else {
            throw ThriftError.cold(.negativeSize, protocolID: protocolID, offset: start, detail: { "\(what) size \(count)" })
        }
        guard count <= limits.maxContainerSize else {
            throw ThriftError.cold(.sizeLimit, protocolID: protocolID, offset: start, limit: limits.maxContainerSize,
                                   detail: { "\(what) of \(count) elements" })
        }
        guard count <= cursor.remaining / elementBytes else {
            needed = cursor.offset + count * elementBytes
            return nil
        }
        return count
    }

    // MARK: Binary (BinaryReader's rules)

    /// The first word: a strict header's version and type, or an old
    /// header's name length with the name.
    private func binaryMessageStart(_ cursor: inout ByteCursor, _ needed: inout Int) throws(ThriftError) -> (first: Frame, then: Frame)? {
        let start = cursor.offset
        guard let word = cursor.readBigEndian(Int32.self) else {
            needed = start + 4
            return nil
        }
        if word < 0 {
            guard UInt32(bitPattern: word) & 0xFFFF_0000 == 0x8001_0000 else {
                throw ThriftError.cold(.badVersion, protocolID: .binary, offset: start,
                                       detail: { "expected version 0x80010000, found 0x\(String(UInt32(bitPattern: word), radix: 16))" })
            }
            _ = try BinaryReader.messageType(UInt8(truncatingIfNeeded: word), at: start + 3)
            return (first: .value(.string), then: .value(.i32))
        }
        guard try payload(Int(word), at: start, what: "message name", &cursor, &needed) != nil else { return nil }
        return (first: .binaryMessageType, then: .value(.i32))
    }

    private func binaryType(_ byte: UInt8, at position: Int) throws(ThriftError) -> ThriftType {
        guard let type = ThriftType(validating: byte) else {
            throw ThriftError.cold(.invalidType, protocolID: .binary, offset: position, typeByte: byte,
                                   detail: { "byte \(byte) is not a Thrift type" })
        }
        return type
    }

    /// The width of a fixed-width binary type (bool, i8, i16, i32, i64, double, uuid), else nil.
    private static func binaryWidth(_ type: ThriftType) -> Int? {
        switch type.rawValue {
        case 2, 3, 4, 6, 8, 10, 16: BinaryReader.minimumSize(type)
        default: nil
        }
    }

    private func binaryFieldHeader(_ cursor: inout ByteCursor, _ needed: inout Int) throws(ThriftError) -> FieldStep? {
        let start = cursor.offset
        guard let typeByte = cursor.readByte() else {
            needed = start + 1
            return nil
        }
        if typeByte == 0 { return .stop }
        let type = try binaryType(typeByte, at: start)
        guard cursor.remaining >= 2 else {
            needed = start + 3
            return nil
        }
        cursor.offset &+= 2
        return .value(type)
    }

    private func binaryValue(_ type: ThriftType, _ cursor: inout ByteCursor, _ needed: inout Int) throws(ThriftError) -> ValueStep? {
        let start = cursor.offset
        switch type.rawValue {
        case 11:
            guard let length = cursor.readBigEndian(Int32.self) else {
                needed = start + 4
                return nil
            }
            return try payload(Int(length), at: start, what: "string", &cursor, &needed)
        case 12:
            try checkDepth(at: start)
            return .opened(.fields)
        case 13:
            try checkDepth(at: start)
            guard let keyByte = cursor.readByte() else {
                needed = start + 1
                return nil
            }
            let keyType = try binaryType(keyByte, at: start)
            guard let valueByte = cursor.readByte() else {
                needed = start + 2
                return nil
            }
            let valueType = try binaryType(valueByte, at: start + 1)
            guard let raw = cursor.readBigEndian(Int32.self) else {
                needed = start + 6
                return nil
            }
            let entryBytes = BinaryReader.minimumSize(keyType) + BinaryReader.minimumSize(valueType)
            guard let count = try count(Int(raw), at: start + 2, elementBytes: entryBytes, what: "map", &cursor, &needed) else {
                return nil
            }
            if let keyWidth = Self.binaryWidth(keyType), let valueWidth = Self.binaryWidth(valueType) {
                // All there: the count was checked against exactly these widths.
                cursor.offset &+= count * (keyWidth + valueWidth)
                return .done
            }
            return count == 0 ? .done : .opened(.entries(key: keyType, value: valueType, remaining: 2 * count))
        case 14, 15:
            try checkDepth(at: start)
            guard let typeByte = cursor.readByte() else {
                needed = start + 1
                return nil
            }
            let elementType = try binaryType(typeByte, at: start)
            guard let raw = cursor.readBigEndian(Int32.self) else {
                needed = start + 5
                return nil
            }
            guard let count = try count(Int(raw), at: start + 1, elementBytes: BinaryReader.minimumSize(elementType),
                                        what: "list", &cursor, &needed) else {
                return nil
            }
            if let width = Self.binaryWidth(elementType) {
                cursor.offset &+= count * width
                return .done
            }
            return count == 0 ? .done : .opened(.elements(elementType, remaining: count))
        default:
            guard let width = Self.binaryWidth(type) else { throw cannotSkip(type, at: start) }
            return fixed(width, &cursor, &needed)
        }
    }

    /// `skip`'s error for a type with no values; unreachable while every type read is validated.
    private func cannotSkip(_ type: ThriftType, at position: Int) -> ThriftError {
        ThriftError.cold(.invalidType, protocolID: protocolID, offset: position, detail: { "cannot skip a value of \(type)" })
    }

    // MARK: Compact (CompactReader's rules)

    /// The protocol id and the version-and-type byte.
    private func compactMessageStart(_ cursor: inout ByteCursor, _ needed: inout Int) throws(ThriftError) -> (first: Frame, then: Frame)? {
        let start = cursor.offset
        guard let protocolByte = cursor.readByte() else {
            needed = start + 1
            return nil
        }
        guard protocolByte == 0x82 else {
            throw ThriftError.cold(.badVersion, protocolID: .compact, offset: start, typeByte: protocolByte,
                                   detail: { "expected protocol id 0x82, found 0x\(String(protocolByte, radix: 16))" })
        }
        guard let versionAndType = cursor.readByte() else {
            needed = start + 2
            return nil
        }
        guard versionAndType & 0x1F == 1 else {
            throw ThriftError.cold(.badVersion, protocolID: .compact, offset: start + 1,
                                   detail: { "expected version 1, found \(versionAndType & 0x1F)" })
        }
        let typeValue = versionAndType >> 5
        guard MessageType(rawValue: typeValue) != nil else {
            throw ThriftError.cold(.invalidMessageType, protocolID: .compact, offset: start + 1, typeByte: typeValue,
                                   detail: { "message type must be 1 (call), 2 (reply), 3 (exception) or 4 (oneway)" })
        }
        // The sequence id, then the name.
        return (first: .value(.i32), then: .value(.string))
    }

    /// A varint of at most `maximumLength` bytes, its bits as the readers
    /// accumulate them (`readVarint32` keeps the low 32 of these).
    private func varint(maximumLength: Int, tooLong: StaticString,
                        _ cursor: inout ByteCursor, _ needed: inout Int) throws(ThriftError) -> UInt64? {
        let start = cursor.offset
        var result: UInt64 = 0
        var length = 0
        while true {
            guard let byte = cursor.readByte() else {
                needed = cursor.offset + 1
                return nil
            }
            result |= UInt64(byte & 0x7F) &<< UInt64(7 * length)
            length += 1
            if byte & 0x80 == 0 { return result }
            if length >= maximumLength {
                throw ThriftError.cold(.varintTooLong, protocolID: .compact, offset: start, detail: { "\(tooLong)" })
            }
        }
    }

    private func varint32(_ cursor: inout ByteCursor, _ needed: inout Int) throws(ThriftError) -> UInt32? {
        guard let raw = try varint(maximumLength: 5, tooLong: "32-bit varint longer than 5 bytes", &cursor, &needed) else { return nil }
        return UInt32(truncatingIfNeeded: raw)
    }

    /// A compact type nibble as a wire type, by `CompactReader`'s rules.
    private func compactType(_ nibble: UInt8, at position: Int) throws(ThriftError) -> ThriftType {
        try CompactReader.wireType(nibble, at: position)
    }

    /// The width of a compact type skipped without looking at its bytes (i8, double, uuid), else nil.
    private static func compactWidth(_ type: ThriftType) -> Int? {
        switch type.rawValue {
        case 3: 1
        case 4, 16: CompactReader.minimumSize(type)
        default: nil
        }
    }

    /// Field ids only matter to decoding, so the previous id (a short
    /// header's base) is not tracked; a long-form id must still fit i16.
    private func compactFieldHeader(_ cursor: inout ByteCursor, _ needed: inout Int) throws(ThriftError) -> FieldStep? {
        let start = cursor.offset
        guard let byte = cursor.readByte() else {
            needed = start + 1
            return nil
        }
        if byte == 0 { return .stop }
        let type = try compactType(byte & 0x0F, at: start)
        if byte >> 4 == 0 {
            guard let raw = try varint32(&cursor, &needed) else { return nil }
            let id = CompactReader.unzigzag(raw)
            guard Int16(exactly: id) != nil else {
                throw ThriftError.cold(.invalidValue, protocolID: .compact, offset: start, detail: { "field id \(id) does not fit i16" })
            }
        }
        return type == .bool ? .valueInHeader : .value(type)
    }

    /// A bool outside a field header: one byte, 1 for true, 0 or 2 for false.
    private func compactBool(_ cursor: inout ByteCursor, _ needed: inout Int) throws(ThriftError) -> ValueStep? {
        guard let byte = cursor.readByte() else {
            needed = cursor.offset + 1
            return nil
        }
        guard byte <= 2 else {
            throw ThriftError.cold(.invalidValue, protocolID: .compact, offset: cursor.offset - 1, typeByte: byte,
                                   detail: { "bool byte must be 1 (true), 2 or 0 (false)" })
        }
        return .done
    }

    private func compactValue(_ type: ThriftType, inList: Bool, _ cursor: inout ByteCursor, _ needed: inout Int) throws(ThriftError) -> ValueStep? {
        let start = cursor.offset
        switch type.rawValue {
        case 2:
            return try compactBool(&cursor, &needed)
        case 6:
            guard let raw = try varint32(&cursor, &needed) else { return nil }
            let value = CompactReader.unzigzag(raw)
            guard Int16(exactly: value) != nil else {
                throw ThriftError.cold(.invalidValue, protocolID: .compact, offset: start, detail: { "i16 value \(value) out of range" })
            }
            return .done
        case 8:
            let tooLong: StaticString = inList ? "varint longer than 5 bytes" : "32-bit varint longer than 5 bytes"
            guard try varint(maximumLength: 5, tooLong: tooLong, &cursor, &needed) != nil else { return nil }
            return .done
        case 10:
            let tooLong: StaticString = inList ? "varint longer than 10 bytes" : "64-bit varint longer than 10 bytes"
            guard try varint(maximumLength: 10, tooLong: tooLong, &cursor, &needed) != nil else { return nil }
            return .done
        case 11:
            guard let raw = try varint32(&cursor, &needed) else { return nil }
            return try payload(Int(Int32(bitPattern: raw)), at: start, what: "string", &cursor, &needed)
        case 12:
            try checkDepth(at: start)
            return .opened(.fields)
        case 13:
            try checkDepth(at: start)
            guard let raw = try varint32(&cursor, &needed) else { return nil }
            // An empty map is the single byte 0: no key or value types.
            if raw == 0 { return .done }
            guard let types = cursor.readByte() else {
                needed = cursor.offset + 1
                return nil
            }
            let keyType = try compactType(types >> 4, at: cursor.offset - 1)
            let valueType = try compactType(types & 0x0F, at: cursor.offset - 1)
            let entryBytes = CompactReader.minimumSize(keyType) + CompactReader.minimumSize(valueType)
            guard let count = try count(Int(Int32(bitPattern: raw)), at: start, elementBytes: entryBytes,
                                        what: "map", &cursor, &needed) else {
                return nil
            }
            if let keyWidth = Self.compactWidth(keyType), let valueWidth = Self.compactWidth(valueType) {
                cursor.offset &+= count * (keyWidth + valueWidth)
                return .done
            }
            return .opened(.entries(key: keyType, value: valueType, remaining: 2 * count))
        case 14, 15:
            try checkDepth(at: start)
            guard let byte = cursor.readByte() else {
                needed = start + 1
                return nil
            }
            let elementType = try compactType(byte & 0x0F, at: start)
            let shortCount = byte >> 4
            let raw: UInt32
            if shortCount == 15 {
                guard let long = try varint32(&cursor, &needed) else { return nil }
                raw = long
            } else {
                raw = UInt32(shortCount)
            }
            guard let count = try count(Int(Int32(bitPattern: raw)), at: start, elementBytes: CompactReader.minimumSize(elementType),
                                        what: "list", &cursor, &needed) else {
                return nil
            }
            // Fixed-width elements are all there: the count was checked against their width.
            if let width = Self.compactWidth(elementType) {
                cursor.offset &+= count * width
                return .done
            }
            if elementType == .bool {
                for _ in 0..<count { _ = try compactBool(&cursor, &needed) }
                return .done
            }
            return count == 0 ? .done : .opened(.elements(elementType, remaining: count))
        default:
            guard let width = Self.compactWidth(type) else { throw cannotSkip(type, at: start) }
            return fixed(width, &cursor, &needed)
        }
    }
}
