/// Apache Thrift's THeader (doc/specs/HeaderFormatSpec.md) and CloudWeGo's TTHeader (Kitex's
/// "transport_protocol_ttheader"): frames that wrap one binary or compact message with
/// per-call metadata. Both share the fixed part and differ in magic and header block:
///
///     LENGTH (4) | MAGIC (2) | FLAGS (2) | SEQUENCE NUMBER (4) | HEADER SIZE / 4 (2) | block | PAYLOAD
///
///     THeader (0x0FFF) block: PROTOCOL ID (varint) | TRANSFORM COUNT (varint) | TRANSFORM IDS (varints)
///       | INFO: TYPE (varint), COUNT (varint), COUNT x (KEY, VALUE) varint-sized strings | zero padding
///     TTHeader (0x1000) block: PROTOCOL ID (u8) | TRANSFORM COUNT (u8) | TRANSFORM IDS (u8)
///       | INFO: ID (u8), then 0x01 string pairs: COUNT (u16), COUNT x (KEY, VALUE) u16-sized strings;
///         0x10 int pairs: COUNT (u16), COUNT x (KEY u16, VALUE u16-sized string);
///         0x11 ACL token: one u16-sized string; 0x00 padding | zero padding
///
/// This type is the header alone, parsed from a frame (zero copy: the payload stays a view
/// of the caller's bytes) or written in front of a payload. Transforms are named, not
/// applied: ApusThrift has no dependencies, and zlib lives with the stream core.
public struct THeader: Sendable, Hashable {
    /// The two bytes after the frame length that mark THeader.
    public static let magic: UInt16 = 0x0FFF
    /// The two bytes after the frame length that mark TTHeader (the top half of Kitex's
    /// `TTHeaderMagic`, 0x10000000; the low half is FLAGS).
    public static let ttMagic: UInt16 = 0x1000
    /// TTHeader's largest header block (Kitex's `MaxHeaderSize`).
    public static let ttMaxBlockSize = 65_536

    /// Which of the two header frames.
    public enum Format: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// Apache Thrift's THeader (magic 0x0FFF): varint-coded, what Apache's C++, Java,
        /// Python and Go and fbthrift speak.
        case theader
        /// CloudWeGo's TTHeader (magic 0x1000): fixed-width fields and integer-keyed info,
        /// what Kitex and Volo speak.
        case ttheader
        public var description: String { rawValue }
        var magic: UInt16 { self == .theader ? THeader.magic : THeader.ttMagic }
    }

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

    /// TTHeader's info ids (Kitex `InfoIDType`).
    enum TTInfoID: UInt8 {
        case padding = 0x00
        case keyValue = 0x01
        case intKeyValue = 0x10
        case aclToken = 0x11
    }

    /// TTHeader's integer info keys that Apus reads or writes (Kitex's `transmeta` keys; the
    /// values are strings).
    public enum TTKey {
        /// The caller's service name.
        public static let fromService: UInt16 = 3
        /// The called service's name.
        public static let toService: UInt16 = 6
        /// The called method's name.
        public static let toMethod: UInt16 = 9
        /// The caller's remaining time for the call, in milliseconds (decimal).
        public static let rpcTimeout: UInt16 = 12
    }

    public var format: Format
    public var flags: UInt16
    /// The frame's sequence number (not the Thrift message's sequence id).
    public var sequenceNumber: UInt32
    /// The inner message's protocol.
    public var protocolID: ThriftProtocolID
    /// Transforms and info headers, in one copy-on-write box that is nil when all are empty:
    /// a header travels by value through reader, dispatcher, sink and reply, and a box makes
    /// each copy one reference count at most (none for the common header with no info),
    /// where five collections would be five.
    private var info: Info?

    private final class Info: @unchecked Sendable {
        var transforms: [Transform] = []
        var headers: [String: String] = [:]
        var persistentHeaders: [String: String] = [:]
        var intHeaders: [UInt16: String] = [:]
        var aclToken: String?

        init() {}
        init(copying other: Info) {
            transforms = other.transforms
            headers = other.headers
            persistentHeaders = other.persistentHeaders
            intHeaders = other.intHeaders
            aclToken = other.aclToken
        }
    }

    /// The box, made or copied so that this value owns it alone (copy on write).
    private mutating func ownedInfo() -> Info {
        if let info, isKnownUniquelyReferenced(&self.info) { return info }
        let owned = info.map(Info.init(copying:)) ?? Info()
        info = owned
        return owned
    }

    public var transforms: [Transform] {
        get { info?.transforms ?? [] }
        _modify { yield &ownedInfo().transforms }
        set { if info != nil || !newValue.isEmpty { ownedInfo().transforms = newValue } }
    }
    /// Per-message string key-value headers (THeader INFO_KEYVALUE, TTHeader 0x01).
    public var headers: [String: String] {
        get { info?.headers ?? Dictionary() }
        _modify { yield &ownedInfo().headers }
        set { if info != nil || !newValue.isEmpty { ownedInfo().headers = newValue } }
    }
    /// Persistent key-value headers (THeader INFO_PKEYVALUE): sent once, valid for the
    /// connection. TTHeader has none.
    public var persistentHeaders: [String: String] {
        get { info?.persistentHeaders ?? Dictionary() }
        _modify { yield &ownedInfo().persistentHeaders }
        set { if info != nil || !newValue.isEmpty { ownedInfo().persistentHeaders = newValue } }
    }
    /// TTHeader's integer-keyed info (0x10): `TTKey` names the keys Apus uses. THeader has none.
    public var intHeaders: [UInt16: String] {
        get { info?.intHeaders ?? Dictionary() }
        _modify { yield &ownedInfo().intHeaders }
        set { if info != nil || !newValue.isEmpty { ownedInfo().intHeaders = newValue } }
    }
    /// TTHeader's ACL token (0x11), if any. THeader has none.
    public var aclToken: String? {
        get { info?.aclToken }
        _modify { yield &ownedInfo().aclToken }
        set { if info != nil || newValue != nil { ownedInfo().aclToken = newValue } }
    }

    /// True when the header has no transforms and no info of any kind.
    public var isBare: Bool {
        guard let info else { return true }
        return info.transforms.isEmpty && info.headers.isEmpty && info.persistentHeaders.isEmpty
            && info.intHeaders.isEmpty && info.aclToken == nil
    }

    public init(format: Format = .theader, flags: UInt16 = 0, sequenceNumber: UInt32 = 0,
                protocol protocolID: ThriftProtocolID = .binary, transforms: [Transform] = [],
                headers: [String: String] = [:], persistentHeaders: [String: String] = [:],
                intHeaders: [UInt16: String] = [:], aclToken: String? = nil) {
        self.format = format
        self.flags = flags
        self.sequenceNumber = sequenceNumber
        self.protocolID = protocolID
        self.info = nil
        self.transforms = transforms
        self.headers = headers
        self.persistentHeaders = persistentHeaders
        self.intHeaders = intHeaders
        self.aclToken = aclToken
    }

    /// A header with no transforms and no info, made without the public initializer's empty
    /// collections (each default `[:]` is a call; a header is parsed per message).
    init(format: Format, flags: UInt16, sequenceNumber: UInt32, protocolID: ThriftProtocolID) {
        self.format = format
        self.flags = flags
        self.sequenceNumber = sequenceNumber
        self.protocolID = protocolID
        self.info = nil
    }

    /// A header with no transforms and no info yet (what a client starts each call's header
    /// from), without the collections the full initializer's defaults make.
    public static func bare(_ format: Format, flags: UInt16 = 0, sequenceNumber: UInt32, protocol protocolID: ThriftProtocolID) -> THeader {
        THeader(format: format, flags: flags, sequenceNumber: sequenceNumber, protocolID: protocolID)
    }

    /// The header of the reply to a call that came in this one: the same format, flags, frame
    /// sequence number and transforms, in `protocolID`, with `headers` as its only info.
    /// Made without collections of its own when there are no transforms and no headers (an
    /// empty dictionary literal is a call per use; most calls carry neither).
    public func reply(protocol protocolID: ThriftProtocolID, headers: [String: String]) -> THeader {
        var reply = self
        reply.protocolID = protocolID
        let transforms = info?.transforms ?? []
        if transforms.isEmpty && headers.isEmpty {
            reply.info = nil
        } else {
            let info = Info()
            info.transforms = transforms
            info.headers = headers
            reply.info = info
        }
        return reply
    }

    public static func == (lhs: THeader, rhs: THeader) -> Bool {
        lhs.format == rhs.format && lhs.flags == rhs.flags && lhs.sequenceNumber == rhs.sequenceNumber
            && lhs.protocolID == rhs.protocolID && lhs.transforms == rhs.transforms && lhs.headers == rhs.headers
            && lhs.persistentHeaders == rhs.persistentHeaders && lhs.intHeaders == rhs.intHeaders && lhs.aclToken == rhs.aclToken
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(format)
        hasher.combine(flags)
        hasher.combine(sequenceNumber)
        hasher.combine(protocolID)
        hasher.combine(transforms)
        hasher.combine(headers)
        hasher.combine(persistentHeaders)
        hasher.combine(intHeaders)
        hasher.combine(aclToken)
    }

    /// The header frame whose magic is `magic`, if any.
    public static func format(magic: UInt16) -> Format? {
        magic == Self.magic ? .theader : magic == Self.ttMagic ? .ttheader : nil
    }

    /// Both formats' protocol ids: 0 binary, 2 compact (1 was JSON, which Apus does not speak;
    /// TTHeader's 3 "compact v2" and 4 Kitex protobuf are not Thrift messages Apus reads).
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
        guard let format = format(magic: magic) else {
            throw fail("magic 0x\(String(magic, radix: 16)), not 0x0fff (THeader) or 0x1000 (TTHeader)")
        }
        let name = format == .theader ? "THeader" : "TTHeader"
        let blockSize = Int(words) * 4
        guard blockSize > 0 else { throw ThriftError(.invalidFrame, offset: 8, detail: "\(name): header size 0 (a header holds at least its protocol id)") }
        if format == .ttheader && blockSize > Self.ttMaxBlockSize {
            throw ThriftError(.sizeLimit, offset: 8, limit: Self.ttMaxBlockSize, detail: "TTHeader: header of \(blockSize) bytes")
        }
        let headerEnd = cursor.offset + blockSize
        guard headerEnd <= frame.count else {
            throw ThriftError(.invalidFrame, offset: 8, detail: "\(name): header of \(blockSize) bytes is larger than the \(frame.count)-byte frame")
        }
        var header = THeader(format: format, flags: flags, sequenceNumber: sequence, protocolID: .binary)
        let block = UnsafeRawBufferPointer(rebasing: frame[cursor.offset..<headerEnd])
        if format == .theader {
            try header.readTHeaderBlock(block, base: cursor.offset, limits: limits)
        } else {
            try header.readTTHeaderBlock(block, base: cursor.offset, limits: limits)
        }
        return (header, headerEnd..<frame.count)
    }

    private mutating func readTHeaderBlock(_ bytes: UnsafeRawBufferPointer, base: Int, limits: ThriftLimits) throws(ThriftError) {
        var block = ByteCursor(bytes)
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
        case 0: protocolID = .binary
        case 2: protocolID = .compact
        case let other:
            throw ThriftError(.badVersion, offset: base, detail: "THeader: protocol id \(other) (Apus speaks binary 0 and compact 2)")
        }
        let transformCount = Int(try varint())
        guard transformCount <= 16 else {
            throw ThriftError(.invalidFrame, offset: base + block.offset, detail: "THeader: \(transformCount) transforms")
        }
        for _ in 0..<transformCount { transforms.append(Transform(rawValue: try varint())) }
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
                    if type == InfoType.keyValue.rawValue { headers[key] = value } else { persistentHeaders[key] = value }
                }
            case nil:
                break infoHeaders  // unknown info types end the list, as Apache's readers do
            }
        }
    }

    private mutating func readTTHeaderBlock(_ bytes: UnsafeRawBufferPointer, base: Int, limits: ThriftLimits) throws(ThriftError) {
        var block = ByteCursor(bytes)
        func truncated(_ what: String) -> ThriftError {
            ThriftError(.truncated, offset: base + block.offset, detail: "TTHeader: header ends inside \(what)")
        }
        func u16(_ what: String) throws(ThriftError) -> Int {
            guard let value = block.readBigEndian(UInt16.self) else { throw truncated(what) }
            return Int(value)
        }
        func string(_ what: String) throws(ThriftError) -> String {
            let length = try u16(what)
            guard length <= limits.maxStringSize else {
                throw ThriftError(.sizeLimit, offset: base + block.offset, limit: limits.maxStringSize,
                                  detail: "TTHeader: \(what) of \(length) bytes")
            }
            guard length <= block.remaining else { throw truncated(what) }
            return String(decoding: block.take(length), as: UTF8.self)
        }
        guard let protocolByte = block.readByte(), let transformCount = block.readByte() else {
            throw truncated("the protocol id and transform count")
        }
        switch protocolByte {
        case 0: protocolID = .binary
        case 2: protocolID = .compact
        case let other:
            let known = [3: " (Thrift compact v2)", 4: " (Kitex protobuf)", 0x10: " (streaming Thrift struct)", 0x11: " (streaming protobuf)"]
            throw ThriftError(.badVersion, offset: base, detail: "TTHeader: protocol id \(other)\(known[Int(other)] ?? "") (Apus speaks binary 0 and compact 2)")
        }
        guard Int(transformCount) <= block.remaining else { throw truncated("its \(transformCount) transform ids") }
        for _ in 0..<transformCount { transforms.append(Transform(rawValue: UInt32(block.readByte()!))) }
        var pairs = 0
        func counted(_ count: Int) throws(ThriftError) {
            pairs += count
            guard pairs <= limits.maxContainerSize else {
                throw ThriftError(.sizeLimit, offset: base + block.offset, limit: limits.maxContainerSize, detail: "TTHeader: \(pairs) info headers")
            }
        }
        while let id = block.readByte() {
            switch TTInfoID(rawValue: id) {
            case .padding?:
                continue
            case .keyValue?:
                let count = try u16("a string info count")
                try counted(count)
                for _ in 0..<count {
                    let key = try string("a string info key"), value = try string("a string info value")
                    headers[key] = value
                }
            case .intKeyValue?:
                let count = try u16("an int info count")
                try counted(count)
                for _ in 0..<count {
                    let key = try u16("an int info key")
                    intHeaders[UInt16(key)] = try string("an int info value")
                }
            case .aclToken?:
                aclToken = try string("the ACL token")
            case nil:
                // Kitex refuses unknown ids too: their layout is unknown, so nothing after them can be read.
                throw ThriftError(.invalidFrame, offset: base + block.offset - 1, detail: "TTHeader: unknown info id 0x\(String(id, radix: 16))")
            }
        }
    }

    // MARK: Writing

    /// Bytes of the header block (protocol, transforms, info headers), padded to 4.
    public var blockSize: Int {
        // No transforms, no info: the protocol id and a transform count of 0, a byte each in
        // both formats, padded to a word.
        guard info != nil else { return 4 }
        func varintSize(_ value: Int) -> Int { value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x20_0000 ? 3 : value < 0x1000_0000 ? 4 : 5 }
        var size: Int
        if format == .ttheader {
            size = 2 + transforms.count
            if !headers.isEmpty {
                size += 3
                for (key, value) in headers { size += 4 + key.utf8.count + value.utf8.count }
            }
            if !intHeaders.isEmpty {
                size += 3
                for value in intHeaders.values { size += 4 + value.utf8.count }
            }
            if let aclToken { size += 3 + aclToken.utf8.count }
        } else {
            func stringSize(_ text: String) -> Int { varintSize(text.utf8.count) + text.utf8.count }
            size = varintSize(Int(Self.wireID(protocolID))) + varintSize(transforms.count)
            for transform in transforms { size += varintSize(Int(transform.rawValue)) }
            // Two calls, not a loop over an array of both: no allocation per message.
            func add(_ type: InfoType, _ pairs: [String: String]) {
                guard !pairs.isEmpty else { return }
                size += varintSize(Int(type.rawValue)) + varintSize(pairs.count)
                for (key, value) in pairs { size += stringSize(key) + stringSize(value) }
            }
            add(.keyValue, headers)
            add(.persistentKeyValue, persistentHeaders)
        }
        return (size + 3) & ~3
    }

    /// LENGTH, the fixed header and the block: what precedes a payload of `payloadSize` bytes.
    public var frameHeaderSize: Int { 4 + 10 + blockSize }

    /// Writes LENGTH (for a payload of `payloadSize` bytes), the fixed header and the padded
    /// block at the start of `buffer`; returns the bytes written (`frameHeaderSize`). Throws
    /// when the header is over its format's limits (THeader: a block over 256 KiB; TTHeader:
    /// a block over 64 KiB, a string over 65,535 bytes, more than 65,535 pairs, a transform id
    /// over 255) or the buffer is short.
    public func write(into buffer: UnsafeMutableRawBufferPointer, payloadSize: Int) throws(ThriftError) -> Int {
        if info == nil {
            // The common header, with no transforms and no info: 18 bytes whatever the format.
            guard buffer.count >= 18 else {
                throw ThriftError(.outputFull, offset: 0, detail: "\(format == .theader ? "THeader" : "TTHeader"): no room for the header")
            }
            guard 14 + payloadSize <= Int(Int32.max) else {
                throw ThriftError(.sizeLimit, offset: 0, limit: Int(Int32.max), detail: "THeader: frame of \(14 + payloadSize) bytes")
            }
            buffer.storeBytes(of: UInt32(14 + payloadSize).bigEndian, toByteOffset: 0, as: UInt32.self)
            buffer.storeBytes(of: format.magic.bigEndian, toByteOffset: 4, as: UInt16.self)
            buffer.storeBytes(of: flags.bigEndian, toByteOffset: 6, as: UInt16.self)
            buffer.storeBytes(of: sequenceNumber.bigEndian, toByteOffset: 8, as: UInt32.self)
            buffer.storeBytes(of: UInt16(1).bigEndian, toByteOffset: 12, as: UInt16.self)
            buffer.storeBytes(of: (UInt32(Self.wireID(protocolID)) << 24).bigEndian, toByteOffset: 14, as: UInt32.self)  // id, 0 transforms, padding
            return 18
        }
        let block = blockSize
        let name = format == .theader ? "THeader" : "TTHeader"
        let blockLimit = format == .theader ? Int(UInt16.max) * 4 : Self.ttMaxBlockSize
        guard block <= blockLimit else {
            throw ThriftError(.sizeLimit, offset: 0, limit: blockLimit, detail: "\(name): header block of \(block) bytes")
        }
        if format == .ttheader {
            let longest = max(headers.lazy.map { max($0.key.utf8.count, $0.value.utf8.count) }.max() ?? 0,
                              intHeaders.values.lazy.map(\.utf8.count).max() ?? 0, aclToken?.utf8.count ?? 0)
            guard longest <= Int(UInt16.max), headers.count <= Int(UInt16.max), intHeaders.count <= Int(UInt16.max),
                  transforms.count <= 255, transforms.allSatisfy({ $0.rawValue <= 255 }) else {
                throw ThriftError(.sizeLimit, offset: 0, limit: Int(UInt16.max),
                                  detail: "TTHeader: a string, a pair count or a transform over its field's width")
            }
        }
        let total = 4 + 10 + block
        guard buffer.count >= total else { throw ThriftError(.outputFull, offset: 0, detail: "\(name): no room for the header") }
        guard 10 + block + payloadSize <= Int(Int32.max) else {
            throw ThriftError(.sizeLimit, offset: 0, limit: Int(Int32.max), detail: "\(name): frame of \(10 + block + payloadSize) bytes")
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
        func putBytes(_ text: String) {
            for byte in text.utf8 {
                buffer[offset] = byte
                offset += 1
            }
        }
        func putString(_ text: String) {
            if format == .theader { putVarint(text.utf8.count) } else { put(UInt16(text.utf8.count)) }
            putBytes(text)
        }
        put(UInt32(10 + block + payloadSize))
        put(format.magic)
        put(flags)
        put(sequenceNumber)
        put(UInt16(block / 4))
        // Sorted keys: the same header always gives the same bytes.
        if format == .ttheader {
            put(UInt8(Self.wireID(protocolID)))
            put(UInt8(transforms.count))
            for transform in transforms { put(UInt8(transform.rawValue)) }
            // Kitex's order: the ACL token, the string pairs, the int pairs.
            if let aclToken {
                put(TTInfoID.aclToken.rawValue)
                putString(aclToken)
            }
            if !headers.isEmpty {
                put(TTInfoID.keyValue.rawValue)
                put(UInt16(headers.count))
                for key in headers.keys.sorted() {
                    putString(key)
                    putString(headers[key]!)
                }
            }
            if !intHeaders.isEmpty {
                put(TTInfoID.intKeyValue.rawValue)
                put(UInt16(intHeaders.count))
                for key in intHeaders.keys.sorted() {
                    put(key)
                    putString(intHeaders[key]!)
                }
            }
        } else {
            putVarint(Int(Self.wireID(protocolID)))
            putVarint(transforms.count)
            for transform in transforms { putVarint(Int(transform.rawValue)) }
            func putPairs(_ type: InfoType, _ pairs: [String: String]) {
                guard !pairs.isEmpty else { return }
                putVarint(Int(type.rawValue))
                putVarint(pairs.count)
                for key in pairs.keys.sorted() {
                    putString(key)
                    putString(pairs[key]!)
                }
            }
            putPairs(.keyValue, headers)
            putPairs(.persistentKeyValue, persistentHeaders)
        }
        while offset < total {
            buffer[offset] = 0
            offset += 1
        }
        return total
    }
}
