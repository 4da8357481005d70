// Big-endian field access for the header views. Every header stores its
// field offsets as `Range<Int>` (one place per header); these helpers read
// and write a field by that range so the width is stated once.

extension UnsafeRawBufferPointer {
    /// Reads a big-endian (network order, RFC 791 Appendix B) integer.
    /// Callers have already checked the length, so in release builds this is a plain load.
    @inlinable @inline(__always)
    func bigEndian<T: FixedWidthInteger>(_ field: Range<Int>, as type: T.Type = T.self) -> T {
        assert(field.count == MemoryLayout<T>.size && field.upperBound <= count)
        return T(bigEndian: loadUnaligned(fromByteOffset: field.lowerBound, as: T.self))
    }

    /// The bytes in `range`, rebased so they index from zero.
    @inlinable @inline(__always)
    func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: self[range])
    }
}

extension UnsafeMutableRawBufferPointer {
    @inlinable @inline(__always)
    func storeBigEndian<T: FixedWidthInteger>(_ value: T, _ field: Range<Int>) {
        assert(field.count == MemoryLayout<T>.size && field.upperBound <= count)
        storeBytes(of: value.bigEndian, toByteOffset: field.lowerBound, as: T.self)
    }

    @inlinable @inline(__always)
    func slice(_ range: Range<Int>) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: self[range])
    }
}
