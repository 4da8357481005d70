/// A growable FIFO of bytes owned by one connection: the message that spans
/// segments (reassembled once, grown once to the announced frame size), or
/// the reply bytes the TCP send buffer could not take yet.
struct ByteQueue: ~Copyable {
    private var storage: UnsafeMutableRawPointer?
    private(set) var capacity = 0
    private var start = 0
    private var end = 0

    init() {}

    deinit { storage?.deallocate() }

    var count: Int { end - start }
    var isEmpty: Bool { start == end }

    /// The queued bytes, valid until the next mutation.
    var readable: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage.map { $0 + start }, count: end - start)
    }

    /// Makes room for at least `total` bytes in all (queued included), in one allocation.
    mutating func reserve(total: Int) {
        guard total > capacity - start else { return }
        if total <= capacity && start > 0 {
            compact()
            return
        }
        let grown = max(total, capacity * 2, 256)
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
        if let storage, count > 0 { fresh.copyMemory(from: storage + start, byteCount: count) }
        storage?.deallocate()
        storage = fresh
        end -= start
        start = 0
        capacity = grown
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(total: count + bytes.count)
        (storage! + end).copyMemory(from: base, byteCount: bytes.count)
        end += bytes.count
    }

    /// Lends `length` bytes of space at the end to `write`, which returns how many it filled.
    mutating func append(length: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) {
        reserve(total: count + length)
        let written = write(UnsafeMutableRawBufferPointer(start: storage! + end, count: length))
        precondition(written >= 0 && written <= length, "wrote outside the lent space")
        end += written
    }

    /// Drops `n` bytes from the front. An emptied queue starts over, and gives
    /// large memory back so an idle connection does not hold a 4 MB message's buffer.
    mutating func removeFirst(_ n: Int) {
        precondition(n <= count)
        start += n
        guard start == end else { return }
        start = 0
        end = 0
        if capacity > 64 * 1024 {
            storage?.deallocate()
            storage = nil
            capacity = 0
        }
    }

    private mutating func compact() {
        guard let storage, start > 0 else { return }
        if count > 0 { storage.copyMemory(from: storage + start, byteCount: count) }
        end -= start
        start = 0
    }
}
