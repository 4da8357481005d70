/// Bounds-checked reads from borrowed memory; shared by both readers.
/// Every read checks the remaining length once, then loads unaligned.
@usableFromInline
struct ByteCursor {
    @usableFromInline let base: UnsafeRawPointer?
    @usableFromInline let count: Int
    @usableFromInline var offset: Int

    @inlinable
    init(_ buffer: UnsafeRawBufferPointer) {
        self.base = buffer.baseAddress
        self.count = buffer.count
        self.offset = 0
    }

    @inlinable var remaining: Int { count &- offset }

    /// Reads `n` bytes (`n` ≤ remaining must already hold).
    @inlinable
    mutating func take(_ n: Int) -> UnsafeRawBufferPointer {
        let view = UnsafeRawBufferPointer(start: base.map { $0 + offset }, count: n)
        offset &+= n
        return view
    }

    @inlinable
    mutating func readByte() -> UInt8? {
        guard offset < count, let base else { return nil }
        let byte = base.load(fromByteOffset: offset, as: UInt8.self)
        offset &+= 1
        return byte
    }

    @inlinable
    mutating func readBigEndian<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard remaining >= MemoryLayout<T>.size, let base else { return nil }
        let value = T(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset &+= MemoryLayout<T>.size
        return value
    }

    @inlinable
    mutating func readLittleEndian<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard remaining >= MemoryLayout<T>.size, let base else { return nil }
        let value = T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset &+= MemoryLayout<T>.size
        return value
    }
}

