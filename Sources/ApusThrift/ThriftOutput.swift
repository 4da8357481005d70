/// Where a writer puts bytes. Writers are generic over it so the same
/// encoding code writes into fixed memory (a TX frame), into a growable
/// buffer, or only counts bytes (the size pass that runs before writing).
public protocol ThriftOutput {
    /// Bytes written so far.
    var count: Int { get }
    mutating func writeBigEndian<T: FixedWidthInteger>(_ value: T) throws(ThriftError)
    mutating func writeLittleEndian<T: FixedWidthInteger>(_ value: T) throws(ThriftError)
    /// The memory of `elements`, as it is (the bytes of a string or binary when `T` is `UInt8`).
    mutating func writeBytes<T: BitwiseCopyable>(contentsOf elements: UnsafeBufferPointer<T>) throws(ThriftError)
    /// An unsigned LEB128 varint (the compact protocol's integers). Generic only so that
    /// specialized callers inline it (see `writeBytes(_:)`).
    mutating func writeVarint<Value: FixedWidthInteger & UnsignedInteger>(_ value: Value) throws(ThriftError)
    /// `values` zigzag-encoded, as varints one after another (the elements of a compact list of
    /// integers): outputs that can claim the worst case once do, and write each with no checks.
    mutating func writeZigzagVarints<T: FixedWidthInteger & SignedInteger>(contentsOf values: UnsafeBufferPointer<T>) throws(ThriftError)
    /// `values` one after another in big-endian order (the elements of a list of numbers):
    /// outputs that can claim the space once do, instead of once per value.
    mutating func writeBigEndian<T: FixedWidthInteger>(contentsOf values: UnsafeBufferPointer<T>) throws(ThriftError)
    /// The UTF-8 bytes of `value` (its length is written before, by the protocol).
    /// Generic only so that specialized callers inline it (see `writeBytes(_:)`).
    mutating func writeUTF8<Text: StringProtocol>(_ value: Text) throws(ThriftError)
}

extension ThriftOutput {
    // `writeByte` and `writeBytes` are not requirements, on purpose: Swift 6.3 does not
    // devirtualize a call to a non-generic requirement with typed throws from specialized code
    // (every field header went through the witness table, 10% of encoding a small struct, and
    // the opaque call kept every string of a map retained), while generic requirements
    // specialize and inline.

    /// One byte.
    @inlinable @inline(__always)
    public mutating func writeByte(_ byte: UInt8) throws(ThriftError) { try writeBigEndian(byte) }

    /// Raw bytes.
    @inlinable @inline(__always)
    public mutating func writeBytes(_ bytes: UnsafeRawBufferPointer) throws(ThriftError) {
        try writeBytes(contentsOf: UnsafeBufferPointer(start: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: bytes.count))
    }

    @inlinable
    public mutating func writeBigEndian<T: FixedWidthInteger>(contentsOf values: UnsafeBufferPointer<T>) throws(ThriftError) {
        for value in values { try writeBigEndian(value) }
    }

    @inlinable
    public mutating func writeZigzagVarints<T: FixedWidthInteger & SignedInteger>(contentsOf values: UnsafeBufferPointer<T>) throws(ThriftError) {
        for value in values { try writeVarint(Zigzag.encode(value)) }
    }

    /// Copied straight from the string's storage (see `StringBytes`).
    @inlinable @inline(__always)
    public mutating func writeUTF8<Text: StringProtocol>(_ value: Text) throws(ThriftError) {
        try StringBytes.with(value) { bytes throws(ThriftError) in try writeBytes(bytes) }
    }
}

/// A string's UTF-8 bytes in place, through `utf8.withContiguousStorageIfAvailable`, which
/// is inlinable: the whole write inlines, and a string borrowed from a collection being
/// iterated needs no retain. `utf8Span` is an opaque call into the standard library, around
/// which the optimizer keeps each such string retained. Only a bridged string has no
/// contiguous storage, and Linux has none; it would be copied once.
@usableFromInline
enum StringBytes {
    @inlinable @inline(__always)
    static func with<Text: StringProtocol>(_ value: Text, _ body: (UnsafeRawBufferPointer) throws(ThriftError) -> Void) throws(ThriftError) {
        var failure: ThriftError?
        let done: Void? = value.utf8.withContiguousStorageIfAvailable { utf8 in
            do throws(ThriftError) { try body(UnsafeRawBufferPointer(utf8)) } catch { failure = error }
        }
        if let failure { throw failure }
        if done == nil { try Array(value.utf8).span.withUnsafeBytes { bytes throws(ThriftError) in try body(bytes) } }
    }
}

/// Writes into memory the caller owns (a TX frame, a NIO buffer's writable
/// bytes). Running out of room is an error, never an overrun; bytes of the buffer past
/// `count` may be used as scratch.
public struct FixedOutput: ThriftOutput, @unchecked Sendable {
    @usableFromInline let base: UnsafeMutableRawPointer?
    @usableFromInline let capacity: Int
    @usableFromInline var _count: Int = 0
    @inlinable public var count: Int { _count }

    @inlinable
    public init(_ buffer: UnsafeMutableRawBufferPointer) {
        self.base = buffer.baseAddress
        self.capacity = buffer.count
    }

    /// The bytes written so far.
    @inlinable public var written: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    @usableFromInline @inline(never)
    func full(_ needed: Int) -> ThriftError {
        ThriftError.cold(.outputFull, offset: count, limit: capacity, detail: { "writing \(needed) bytes into a \(capacity)-byte buffer" })
    }

    @inlinable @inline(__always)
    mutating func claim(_ n: Int) throws(ThriftError) -> UnsafeMutableRawPointer {
        guard capacity &- count >= n, let base else { throw full(n) }
        defer { _count &+= n }
        return base + count
    }

    @inlinable @inline(__always)
    public mutating func writeBigEndian<T: FixedWidthInteger>(_ value: T) throws(ThriftError) {
        try claim(MemoryLayout<T>.size).storeBytes(of: value.bigEndian, as: T.self)
    }

    @inlinable @inline(__always)
    public mutating func writeLittleEndian<T: FixedWidthInteger>(_ value: T) throws(ThriftError) {
        try claim(MemoryLayout<T>.size).storeBytes(of: value.littleEndian, as: T.self)
    }

    @inlinable @inline(__always)
    public mutating func writeBytes<T: BitwiseCopyable>(contentsOf elements: UnsafeBufferPointer<T>) throws(ThriftError) {
        guard let source = elements.baseAddress, !elements.isEmpty else { return }
        let length = elements.count &* MemoryLayout<T>.stride
        try claim(length).copyMemory(from: source, byteCount: length)
    }

    @inlinable
    public mutating func writeBigEndian<T: FixedWidthInteger>(contentsOf values: UnsafeBufferPointer<T>) throws(ThriftError) {
        let size = MemoryLayout<T>.size
        let (total, overflow) = values.count.multipliedReportingOverflow(by: size)
        guard !overflow else { throw full(Int.max) }
        let pointer = try claim(total)
        for index in 0..<values.count {
            pointer.storeBytes(of: values[index].bigEndian, toByteOffset: index &* size, as: T.self)
        }
    }

    /// With 8 bytes of room and a value under 2^56, the 7-bit groups are spread into one word
    /// and stored at once (the bytes after the varint are scratch until the next write).
    @inlinable @inline(__always)
    public mutating func writeVarint<Value: FixedWidthInteger & UnsignedInteger>(_ value: Value) throws(ThriftError) {
        let value = UInt64(value)
        if value < 0x80 {
            try claim(1).storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
            return
        }
        if value < 1 &<< 56, capacity &- _count >= 8, let base {
            let (word, length) = VarintWord.spread(value)
            (base + _count).storeBytes(of: word.littleEndian, as: UInt64.self)
            _count &+= length
            return
        }
        try writeVarintSlowly(value, length: VarintLength.of(value))
    }

    /// One check for the whole list: with room for every value at its widest and 8 bytes more,
    /// each varint is spread into a word and stored with no check (values under 2^56; wider
    /// ones, only in a list of i64, byte by byte), and the count stays in a register.
    /// Without that much room, value by value, so that a full buffer fails as it would have.
    @inlinable
    public mutating func writeZigzagVarints<T: FixedWidthInteger & SignedInteger>(contentsOf values: UnsafeBufferPointer<T>) throws(ThriftError) {
        let widest = (T.bitWidth &+ 6) / 7
        guard let base, capacity &- _count >= 8, values.count <= (capacity &- _count &- 8) / widest else {
            for value in values { try writeVarint(Zigzag.encode(value)) }
            return
        }
        var end = _count
        for value in values {
            let value = UInt64(Zigzag.encode(value))
            if T.bitWidth > 32 && value >= 1 &<< 56 {
                let length = VarintLength.of(value)
                VarintWord.storeBytes(value, length: length, at: base + end)
                end &+= length
                continue
            }
            let (word, length) = VarintWord.spread(value)
            (base + end).storeBytes(of: word.littleEndian, as: UInt64.self)
            end &+= length
        }
        _count = end
    }

    @inlinable
    mutating func writeVarintSlowly(_ value: UInt64, length: Int) throws(ThriftError) {
        VarintWord.storeBytes(value, length: length, at: try claim(length))
    }
}

/// Writes into an array that grows as needed: for tools, tests and callers
/// that do not size first.
public struct GrowableOutput: ThriftOutput, Sendable {
    public var bytes: [UInt8]

    @inlinable
    public init(reservingCapacity capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inlinable public var count: Int { bytes.count }

    @inlinable public mutating func writeByte(_ byte: UInt8) { bytes.append(byte) }

    @inlinable
    public mutating func writeBigEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    @inlinable
    public mutating func writeLittleEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inlinable
    public mutating func writeBytes<T: BitwiseCopyable>(contentsOf elements: UnsafeBufferPointer<T>) {
        bytes.append(contentsOf: UnsafeRawBufferPointer(elements))
    }

    @inlinable
    public mutating func writeVarint<Value: FixedWidthInteger & UnsignedInteger>(_ value: Value) {
        var value = UInt64(value)
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }
}

/// Counts bytes without writing them: the size pass.
public struct ByteCounter: ThriftOutput, Sendable {
    @usableFromInline var _count: Int = 0
    @inlinable public var count: Int { _count }

    @inlinable public init() {}

    @inlinable public mutating func writeByte(_ byte: UInt8) { _count &+= 1 }
    @inlinable public mutating func writeBigEndian<T: FixedWidthInteger>(_ value: T) { _count &+= MemoryLayout<T>.size }
    @inlinable public mutating func writeLittleEndian<T: FixedWidthInteger>(_ value: T) { _count &+= MemoryLayout<T>.size }
    @inlinable public mutating func writeBytes<T: BitwiseCopyable>(contentsOf elements: UnsafeBufferPointer<T>) {
        _count &+= elements.count &* MemoryLayout<T>.stride
    }
    @inlinable public mutating func writeVarint<Value: FixedWidthInteger & UnsignedInteger>(_ value: Value) { _count &+= VarintLength.of(UInt64(value)) }
    @inlinable public mutating func writeBigEndian<T: FixedWidthInteger>(contentsOf values: UnsafeBufferPointer<T>) {
        _count &+= values.count &* MemoryLayout<T>.size
    }
    @inlinable public mutating func writeZigzagVarints<T: FixedWidthInteger & SignedInteger>(contentsOf values: UnsafeBufferPointer<T>) {
        var total = 0
        for value in values { total &+= VarintLength.of(UInt64(Zigzag.encode(value))) }
        _count &+= total
    }
    /// The size pass needs a string's length only, which a native string stores.
    @inlinable public mutating func writeUTF8<Text: StringProtocol>(_ value: Text) { _count &+= value.utf8.count }
}

@usableFromInline
enum VarintLength {
    /// 1 byte per 7 significant bits, at least 1.
    @inlinable
    static func of(_ value: UInt64) -> Int {
        let bits = 64 &- (value | 1).leadingZeroBitCount
        return (bits &+ 6) / 7
    }
}

/// Storing a varint. One of at most 8 bytes (a value under 2^56) goes as one little-endian
/// word (`spread`): the value's 7-bit groups one per byte, spread in three halving steps (28-, 14-, then 7-bit pieces to
/// their bytes: 12 operations where shifting each group is 24), and the high bit of every byte
/// below the top non-zero one set ("more follows"). The length comes from that same top byte.
@usableFromInline
enum VarintWord {
    @inlinable @inline(__always)
    static func spread(_ value: UInt64) -> (word: UInt64, length: Int) {
        var word = value & 0x0FFF_FFFF | value &<< 4 & 0x0FFF_FFFF_0000_0000
        word = word & 0x0000_3FFF_0000_3FFF | word &<< 2 & 0x3FFF_0000_3FFF_0000
        word = word & 0x007F_007F_007F_007F | word &<< 1 & 0x7F00_7F00_7F00_7F00
        let top = (63 &- (word | 1).leadingZeroBitCount) &>> 3
        let more = 0x8080_8080_8080_8080 & (1 &<< UInt64(top &<< 3) &- 1)
        return (word | more, top &+ 1)
    }

    /// Any varint, `length` bytes of it, one byte at a time (where a word may not be stored):
    /// the cold path, kept out of the callers' loops.
    @usableFromInline @inline(never)
    static func storeBytes(_ value: UInt64, length: Int, at pointer: UnsafeMutableRawPointer) {
        var value = value
        for index in 0..<(length &- 1) {
            pointer.storeBytes(of: UInt8(truncatingIfNeeded: value) | 0x80, toByteOffset: index, as: UInt8.self)
            value &>>= 7
        }
        pointer.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: length &- 1, as: UInt8.self)
    }
}

/// The compact protocol's mapping of signed integers to unsigned ones, small magnitudes to
/// small numbers: 0, -1, 1, -2 … become 0, 1, 2, 3 ….
@usableFromInline
enum Zigzag {
    @inlinable @inline(__always)
    static func encode<T: FixedWidthInteger & SignedInteger>(_ n: T) -> T.Magnitude {
        T.Magnitude(truncatingIfNeeded: (n &<< 1) ^ (n >> (T.bitWidth &- 1)))
    }
}
