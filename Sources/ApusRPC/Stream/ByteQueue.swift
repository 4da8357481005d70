/// A growable FIFO of bytes owned by one connection: the message that spans
/// reads or segments, or reply bytes a transport could not send yet.
///
/// Memory grows with the bytes actually stored (doubling, so copying stays
/// linear), never ahead of them to a size a peer merely announced; an
/// emptied queue gives large memory back.
package struct ByteQueue: ~Copyable {
    private var storage: UnsafeMutableRawPointer?
    package private(set) var capacity = 0
    private var start = 0
    private var end = 0

    package init() {}

    deinit { storage?.deallocate() }

    package var count: Int { end - start }
    package var isEmpty: Bool { start == end }

    /// The queued bytes, valid until the next mutation.
    package var readable: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage.map { $0 + start }, count: end - start)
    }

    /// Makes room for at least `total` bytes in all (queued included). Growth doubles the
    /// capacity but stops at `limit` (the size of the message being collected, when known).
    package mutating func reserve(total: Int, limit: Int = .max) {
        guard total > capacity - start else { return }
        if total <= capacity && start > 0 {
            compact()
            return
        }
        let grown = max(total, min(max(capacity * 2, 256), limit))
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
        if let storage, count > 0 { fresh.copyMemory(from: storage + start, byteCount: count) }
        storage?.deallocate()
        storage = fresh
        end -= start
        start = 0
        capacity = grown
    }

    package mutating func append(_ bytes: UnsafeRawBufferPointer, limit: Int = .max) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(total: count + bytes.count, limit: limit)
        (storage! + end).copyMemory(from: base, byteCount: bytes.count)
        end += bytes.count
    }

    /// Lends `length` bytes of space at the end to `write`, which returns how many it filled.
    package mutating func append(length: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) {
        reserve(total: count + length)
        let written = write(UnsafeMutableRawBufferPointer(start: storage! + end, count: length))
        precondition(written >= 0 && written <= length, "wrote outside the lent space")
        end += written
    }

    /// Drops `n` bytes from the front. An emptied queue starts over, and gives
    /// large memory back so an idle connection does not hold a 4 MB message's buffer.
    package mutating func removeFirst(_ n: Int) {
        precondition(n <= count)
        start += n
        guard start == end else { return }
        start = 0
        end = 0
        if capacity > 64 * 1024 { removeAll() }
    }

    /// Drops everything and frees the memory.
    package mutating func removeAll() {
        storage?.deallocate()
        storage = nil
        capacity = 0
        start = 0
        end = 0
    }

    private mutating func compact() {
        guard let storage, start > 0 else { return }
        if count > 0 { storage.copyMemory(from: storage + start, byteCount: count) }
        end -= start
        start = 0
    }
}
