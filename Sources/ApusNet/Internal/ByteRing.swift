/// A fixed-capacity byte ring: a TCP send or receive buffer.
///
/// Storage is allocated once, when the connection is created, so moving data
/// through it never allocates. Besides the readable bytes (`count` from the
/// head) the receive side writes out-of-order data into the free space at an
/// offset past the tail and makes it readable later with `commit`.
struct ByteRing {
    private var storage: [UInt8]
    private var head = 0
    /// Readable bytes, starting at the head.
    private(set) var count = 0

    init(capacity: Int) {
        storage = [UInt8](repeating: 0, count: max(capacity, 1))
    }

    var capacity: Int { storage.count }
    var freeSpace: Int { storage.count - count }
    var isEmpty: Bool { count == 0 }

    /// Copies `bytes` into the free space starting `offset` bytes past the tail, wrapping;
    /// they become readable only when committed. The caller keeps `offset + bytes.count`
    /// within `freeSpace`.
    mutating func write(_ bytes: UnsafeRawBufferPointer, atOffsetPastTail offset: Int) {
        precondition(offset >= 0 && offset + bytes.count <= freeSpace, "ring write past free space")
        guard !bytes.isEmpty else { return }
        let capacity = storage.count
        let start = (head + count + offset) % capacity
        let first = min(bytes.count, capacity - start)
        storage.withUnsafeMutableBytes { ring in
            UnsafeMutableRawBufferPointer(rebasing: ring[start..<(start + first)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<first]))
            if first < bytes.count {
                UnsafeMutableRawBufferPointer(rebasing: ring[0..<(bytes.count - first)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[first...]))
            }
        }
    }

    /// Makes `length` bytes past the tail readable.
    mutating func commit(_ length: Int) {
        precondition(length >= 0 && length <= freeSpace)
        count += length
    }

    /// Appends as much of `bytes` as fits; returns how much.
    @discardableResult
    mutating func append(_ bytes: UnsafeRawBufferPointer) -> Int {
        let length = min(bytes.count, freeSpace)
        write(UnsafeRawBufferPointer(rebasing: bytes[0..<length]), atOffsetPastTail: 0)
        count += length
        return length
    }

    /// Lends the contiguous free space after the tail (at most `maximumLength` bytes) to `body`,
    /// which returns how many bytes it wrote there; those become readable.
    mutating func appendInPlace(maximumLength: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) -> Int {
        let capacity = storage.count
        let tail = (head + count) % capacity
        let contiguous = min(maximumLength, freeSpace, capacity - tail)
        guard contiguous > 0 else { return 0 }
        let written = storage.withUnsafeMutableBytes { ring in
            body(UnsafeMutableRawBufferPointer(rebasing: ring[tail..<(tail + contiguous)]))
        }
        precondition(written >= 0 && written <= contiguous, "wrote more than was lent")
        count += written
        return written
    }

    /// Copies `destination.count` readable bytes starting `offset` bytes after the head.
    func copy(fromOffset offset: Int, into destination: UnsafeMutableRawBufferPointer) {
        precondition(offset >= 0 && offset + destination.count <= count, "ring read past readable bytes")
        guard !destination.isEmpty else { return }
        let capacity = storage.count
        let start = (head + offset) % capacity
        let first = min(destination.count, capacity - start)
        storage.withUnsafeBytes { ring in
            UnsafeMutableRawBufferPointer(rebasing: destination[0..<first])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: ring[start..<(start + first)]))
            if first < destination.count {
                UnsafeMutableRawBufferPointer(rebasing: destination[first...])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: ring[0..<(destination.count - first)]))
            }
        }
    }

    /// Lends the contiguous readable bytes at the head to `body`, which returns how many it consumed.
    mutating func consumeInPlace(_ body: (UnsafeRawBufferPointer) -> Int) -> Int {
        let contiguous = min(count, storage.count - head)
        guard contiguous > 0 else { return 0 }
        let consumed = storage.withUnsafeBytes { ring in
            body(UnsafeRawBufferPointer(rebasing: ring[head..<(head + contiguous)]))
        }
        precondition(consumed >= 0 && consumed <= contiguous, "consumed more than was lent")
        removeFirst(consumed)
        return consumed
    }

    mutating func removeFirst(_ length: Int) {
        precondition(length >= 0 && length <= count)
        head = (head + length) % storage.count
        count -= length
    }

    /// Moves an empty ring's head forward, for bytes that were delivered without passing
    /// through the ring, so that offsets past the tail keep their meaning.
    mutating func skipEmpty(_ length: Int) {
        precondition(count == 0)
        head = (head + length) % storage.count
    }
}
