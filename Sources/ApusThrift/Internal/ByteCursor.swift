/// Bounds-checked reads from borrowed memory; shared by both readers.
/// Every read checks the remaining length once, then loads unaligned.
@usableFromInline
struct ByteCursor {
    /// Never nil: an empty buffer gets a dangling but never-dereferenced pointer,
    /// so reads need one length check and no nil check.
    @usableFromInline let base: UnsafeRawPointer
    @usableFromInline let count: Int
    @usableFromInline var offset: Int

    @inlinable
    init(_ buffer: UnsafeRawBufferPointer) {
        self.base = buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 0x10)!
        self.count = buffer.count
        self.offset = 0
    }

    @inlinable @inline(__always) var remaining: Int { count &- offset }

    /// Reads `n` bytes (`n` ≤ remaining must already hold).
    @inlinable @inline(__always)
    mutating func take(_ n: Int) -> UnsafeRawBufferPointer {
        let view = UnsafeRawBufferPointer(start: base + offset, count: n)
        offset &+= n
        return view
    }

    @inlinable @inline(__always)
    mutating func readByte() -> UInt8? {
        guard offset < count else { return nil }
        let byte = base.load(fromByteOffset: offset, as: UInt8.self)
        offset &+= 1
        return byte
    }

    @inlinable @inline(__always)
    mutating func readBigEndian<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard remaining >= MemoryLayout<T>.size else { return nil }
        let value = T(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset &+= MemoryLayout<T>.size
        return value
    }

    @inlinable @inline(__always)
    mutating func readLittleEndian<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard remaining >= MemoryLayout<T>.size else { return nil }
        let value = T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset &+= MemoryLayout<T>.size
        return value
    }
}
