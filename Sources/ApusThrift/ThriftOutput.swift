/// Where a writer puts bytes. Writers are generic over it so the same
/// encoding code writes into fixed memory (a TX frame), into a growable
/// buffer, or only counts bytes (the size pass that runs before writing).
public protocol ThriftOutput {
    /// Bytes written so far.
    var count: Int { get }
    mutating func writeByte(_ byte: UInt8) throws(ThriftError)
    mutating func writeBigEndian<T: FixedWidthInteger>(_ value: T) throws(ThriftError)
    mutating func writeLittleEndian<T: FixedWidthInteger>(_ value: T) throws(ThriftError)
    mutating func writeBytes(_ bytes: UnsafeRawBufferPointer) throws(ThriftError)
    /// An unsigned LEB128 varint (the compact protocol's integers).
    mutating func writeVarint(_ value: UInt64) throws(ThriftError)
    /// `values` one after another in big-endian order (the elements of a list of numbers):
    /// outputs that can claim the space once do, instead of once per value.
    mutating func writeBigEndian<T: FixedWidthInteger>(contentsOf values: UnsafeBufferPointer<T>) throws(ThriftError)
    /// The UTF-8 bytes of `value` (its length is written before, by the protocol).
    mutating func writeUTF8(_ value: String) throws(ThriftError)
}

extension ThriftOutput {
    @inlinable
    public mutating func writeBigEndian<T: FixedWidthInteger>(contentsOf values: UnsafeBufferPointer<T>) throws(ThriftError) {
        for value in values { try writeBigEndian(value) }
    }

    /// Copied straight from the string's storage: borrowed through its span, so no copy and
    /// no retain/release pair per string.
    @inlinable
    public mutating func writeUTF8(_ value: String) throws(ThriftError) {
        try value.utf8Span.span.withUnsafeBytes { bytes throws(ThriftError) in try writeBytes(bytes) }
    }
}

/// Writes into memory the caller owns (a TX frame, a NIO buffer's writable
/// bytes). Running out of room is an error, never an overrun.
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
    public mutating func writeByte(_ byte: UInt8) throws(ThriftError) {
        try claim(1).storeBytes(of: byte, as: UInt8.self)
    }

    @inlinable @inline(__always)
    public mutating func writeBigEndian<T: FixedWidthInteger>(_ value: T) throws(ThriftError) {
        try claim(MemoryLayout<T>.size).storeBytes(of: value.bigEndian, as: T.self)
    }

    @inlinable @inline(__always)
    public mutating func writeLittleEndian<T: FixedWidthInteger>(_ value: T) throws(ThriftError) {
        try claim(MemoryLayout<T>.size).storeBytes(of: value.littleEndian, as: T.self)
    }

    @inlinable
    public mutating func writeBytes(_ bytes: UnsafeRawBufferPointer) throws(ThriftError) {
        guard !bytes.isEmpty else { return }
        try claim(bytes.count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
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

    @inlinable
    public mutating func writeVarint(_ value: UInt64) throws(ThriftError) {
        let length = VarintLength.of(value)
        let pointer = try claim(length)
        var value = value
        for index in 0..<(length - 1) {
            pointer.storeBytes(of: UInt8(truncatingIfNeeded: value) | 0x80, toByteOffset: index, as: UInt8.self)
            value >>= 7
        }
        pointer.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: length - 1, as: UInt8.self)
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

    @inlinable public mutating func writeBytes(_ bytes: UnsafeRawBufferPointer) { self.bytes.append(contentsOf: bytes) }

    @inlinable
    public mutating func writeVarint(_ value: UInt64) {
        var value = value
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
    @inlinable public mutating func writeBytes(_ bytes: UnsafeRawBufferPointer) { _count &+= bytes.count }
    @inlinable public mutating func writeVarint(_ value: UInt64) { _count &+= VarintLength.of(value) }
    @inlinable public mutating func writeBigEndian<T: FixedWidthInteger>(contentsOf values: UnsafeBufferPointer<T>) {
        _count &+= values.count &* MemoryLayout<T>.size
    }
    /// The size pass needs a string's length only, which a native string stores.
    @inlinable public mutating func writeUTF8(_ value: String) { _count &+= value.utf8.count }
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
