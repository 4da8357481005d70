/// Apache Thrift's THeader (doc/specs/HeaderFormatSpec.md): a frame that wraps one
/// binary or compact message with per-call metadata.
///
///     LENGTH (4) | 0x0FFF (2) | FLAGS (2) | SEQUENCE NUMBER (4) | HEADER SIZE / 4 (2)
///     | PROTOCOL ID (varint) | TRANSFORM COUNT (varint) | TRANSFORM IDS (varints)
///     | INFO HEADERS: TYPE (varint), COUNT (varint), COUNT x (KEY, VALUE) varint-sized strings
///     | zero padding to HEADER SIZE | PAYLOAD (the message, after the transforms)
///
/// This type is the header alone, parsed from a frame (zero copy: the payload stays a view
/// of the caller's bytes) or written in front of a payload. Transforms are named, not
/// applied: ApusThrift has no dependencies, and zlib lives with the stream core.
public struct THeader: Sendable, Hashable {
    /// The two bytes after the frame length that mark THeader.
    public static let magic: UInt16 = 0x0FFF

    /// Per-message transforms of the payload, applied in order when writing.
    public struct Transform: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// zlib (RFC 1950) over the whole payload: what Apache's C++, Java and Python support.
        public static let zlib = Transform(rawValue: 1)
        public var description: String { self == .zlib ? "zlib" : "transform \(rawValue)" }
    }

    /// Info header types (THeader.h): key-value pairs for this message, and persistent ones
    /// a client sends once for the connection.
    enum InfoType: UInt32 {
        case padding = 0
        case keyValue = 1
        case persistentKeyValue = 2
    }

    public var flags: UInt16
    /// The frame's sequence number (not the Thrift message's sequence id).
    public var sequenceNumber: UInt32
    /// The inner message's protocol.
    public var protocolID: ThriftProtocolID
    public var transforms: [Transform]
    /// Per-message key-value headers (INFO_KEYVALUE).
    public var headers: [String: String]
    /// Persistent key-value headers (INFO_PKEYVALUE): sent once, valid for the connection.
    public var persistentHeaders: [String: String]

    public init(flags: UInt16 = 0, sequenceNumber: UInt32 = 0, protocol protocolID: ThriftProtocolID = .binary,
                transforms: [Transform] = [], headers: [String: String] = [:], persistentHeaders: [String: String] = [:]) {
        self.flags = flags
        self.sequenceNumber = sequenceNumber
        self.protocolID = protocolID
        self.transforms = transforms
        self.headers = headers
        self.persistentHeaders = persistentHeaders
    }

    /// THeader's protocol ids: 0 binary, 2 compact (1 was JSON, which Apus does not speak).
    static func wireID(_ protocolID: ThriftProtocolID) -> UInt32 { protocolID == .binary ? 0 : 2 }

    // MARK: Reading

    /// Parses the frame that follows a 4-byte LENGTH (whose value is `frame.count`) and
    /// returns the header and where the payload is in `frame`.
    public static func parse(_ frame: UnsafeRawBufferPointer, limits: ThriftLimits = .default)
        throws(ThriftError) -> (header: THeader, payload: Range<Int>) {
        var cursor = ByteCursor(frame)
        func fail(_ detail: String, _ kind: ThriftError.Kind = .invalidFrame) -> ThriftError {
            ThriftError(kind, offset: cursor.offset, detail: "THeader: \(detail)")
        }
        guard let magic = cursor.readBigEndian(UInt16.self), let flags = cursor.readBigEndian(UInt16.self),
              let sequence = cursor.readBigEndian(UInt32.self), let words = cursor.readBigEndian(UInt16.self) else {
            throw fail("frame shorter than its 10-byte fixed header", .truncated)
        }
        guard magic == Self.magic else { throw fail("magic 0x\(String(magic, radix: 16)), not 0x0fff") }
        let headerEnd = cursor.offset + Int(words) * 4
        guard headerEnd <= frame.count else {
            throw fail("header of \(Int(words) * 4) bytes is larger than the \(frame.count)-byte frame")
        }
        var header = THeader(flags: flags, sequenceNumber: sequence)
        var block = ByteCursor(UnsafeRawBufferPointer(rebasing: frame[cursor.offset..<headerEnd]))
        let base = cursor.offset
        func varint() throws(ThriftError) -> UInt32 {
            var value: UInt32 = 0
            for shift in stride(from: 0, to: 35, by: 7) {
                guard let byte = block.readByte() else {
                    throw ThriftError(.truncated, offset: base + block.offset, detail: "THeader: header block ends inside a varint")
                }
                value |= UInt32(byte & 0x7F) << UInt32(shift)
                if byte & 0x80 == 0 { return value }
            }
            throw ThriftError(.varintTooLong, offset: base + block.offset, detail: "THeader: varint longer than 5 bytes")
        }
        func string() throws(ThriftError) -> String {
            let length = Int(try varint())
            guard length <= limits.maxStringSize else {
                throw ThriftError(.sizeLimit, offset: base + block.offset, limit: limits.maxStringSize,
                                  detail: "THeader: info header string of \(length) bytes")
            }
            guard length <= block.remaining else {
                throw ThriftError(.truncated, offset: base + block.offset, detail: "THeader: info header string past the header")
            }
            return String(decoding: block.take(length), as: UTF8.self)
        }
        switch try varint() {
        case 0: header.protocolID = .binary
        case 2: header.protocolID = .compact
        case let other:
            throw ThriftError(.badVersion, offset: base, detail: "THeader: protocol id \(other) (Apus speaks binary 0 and compact 2)")
        }
        let transformCount = Int(try varint())
        guard transformCount <= 16 else { throw fail("\(transformCount) transforms") }
        for _ in 0..<transformCount { header.transforms.append(Transform(rawValue: try varint())) }
        var pairs = 0
        infoHeaders: while block.remaining > 0 {
            let type = try varint()
            switch InfoType(rawValue: type) {
            case .padding?:
                break infoHeaders  // the rest is padding
            case .keyValue?, .persistentKeyValue?:
                let count = Int(try varint())
                pairs += count
                guard pairs <= limits.maxContainerSize else {
                    throw ThriftError(.sizeLimit, offset: base + block.offset, limit: limits.maxContainerSize,
                                      detail: "THeader: \(pairs) info headers")
                }
                for _ in 0..<count {
                    let key = try string(), value = try string()
                    if type == InfoType.keyValue.rawValue { header.headers[key] = value } else { header.persistentHeaders[key] = value }
                }
            case nil:
                break infoHeaders  // unknown info types end the list, as Apache's readers do
            }
        }
        return (header, headerEnd..<frame.count)
    }

    // MARK: Writing

    /// Bytes of the header block (protocol, transforms, info headers), padded to 4.
    public var blockSize: Int {
        func varintSize(_ value: Int) -> Int { value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x20_0000 ? 3 : value < 0x1000_0000 ? 4 : 5 }
        func stringSize(_ text: String) -> Int { varintSize(text.utf8.count) + text.utf8.count }
        var size = varintSize(Int(Self.wireID(protocolID))) + varintSize(transforms.count)
        for transform in transforms { size += varintSize(Int(transform.rawValue)) }
        for (type, pairs) in [(InfoType.keyValue, headers), (.persistentKeyValue, persistentHeaders)] where !pairs.isEmpty {
            size += varintSize(Int(type.rawValue)) + varintSize(pairs.count)
            for (key, value) in pairs { size += stringSize(key) + stringSize(value) }
        }
        return (size + 3) & ~3
    }

    /// LENGTH, the fixed header and the block: what precedes a payload of `payloadSize` bytes.
    public var frameHeaderSize: Int { 4 + 10 + blockSize }

    /// Writes LENGTH (for a payload of `payloadSize` bytes), the fixed header and the padded
    /// block at the start of `buffer`; returns the bytes written (`frameHeaderSize`). Throws
    /// when the header is over the spec's limits (a block over 256 KiB) or the buffer short.
    public func write(into buffer: UnsafeMutableRawBufferPointer, payloadSize: Int) throws(ThriftError) -> Int {
        let block = blockSize
        guard block / 4 <= Int(UInt16.max) else {
            throw ThriftError(.sizeLimit, offset: 0, limit: Int(UInt16.max) * 4, detail: "THeader: header block of \(block) bytes")
        }
        let total = 4 + 10 + block
        guard buffer.count >= total else { throw ThriftError(.outputFull, offset: 0, detail: "THeader: no room for the header") }
        guard 10 + block + payloadSize <= Int(Int32.max) else {
            throw ThriftError(.sizeLimit, offset: 0, limit: Int(Int32.max), detail: "THeader: frame of \(10 + block + payloadSize) bytes")
        }
        var offset = 0
        func put<T: FixedWidthInteger>(_ value: T) {
            buffer.storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
            offset += MemoryLayout<T>.size
        }
        func putVarint(_ value: Int) {
            var rest = UInt32(value)
            while rest >= 0x80 {
                buffer[offset] = UInt8(truncatingIfNeeded: rest) | 0x80
                offset += 1
                rest >>= 7
            }
            buffer[offset] = UInt8(rest)
            offset += 1
        }
        func putString(_ text: String) {
            putVarint(text.utf8.count)
            for byte in text.utf8 {
                buffer[offset] = byte
                offset += 1
            }
        }
        put(UInt32(10 + block + payloadSize))
        put(Self.magic)
        put(flags)
        put(sequenceNumber)
        put(UInt16(block / 4))
        putVarint(Int(Self.wireID(protocolID)))
        putVarint(transforms.count)
        for transform in transforms { putVarint(Int(transform.rawValue)) }
        // Sorted keys: the same header always gives the same bytes.
        for (type, pairs) in [(InfoType.keyValue, headers), (.persistentKeyValue, persistentHeaders)] where !pairs.isEmpty {
            putVarint(Int(type.rawValue))
            putVarint(pairs.count)
            for key in pairs.keys.sorted() {
                putString(key)
                putString(pairs[key]!)
            }
        }
        while offset < total {
            buffer[offset] = 0
            offset += 1
        }
        return total
    }
}
