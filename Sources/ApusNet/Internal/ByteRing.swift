import ApusWire

/// A bounded byte ring: a TCP send or receive buffer.
///
/// `capacity` is the most it holds (what the windows are sized by); storage is allocated
/// only when bytes arrive, grown by doubling from `minimumStorage` up to `capacity`, and
/// freed when the ring drains (`releaseIfDrained`), all charged to the stack's
/// `BufferMemory`. So an idle connection holds no buffer and a connection moving small
/// messages keeps one small allocation. Besides the readable bytes (`count` from the head)
/// the receive side writes out-of-order data into the free space at an offset past the tail
/// and makes it readable later with `commit`.
struct ByteRing {
    private var storage: [UInt8] = []
    private var head = 0
    /// Readable bytes, starting at the head.
    private(set) var count = 0
    /// The most the ring holds.
    let capacity: Int

    /// The first allocation; also the most a drained ring keeps, so request/response traffic
    /// does not allocate per message.
    static var minimumStorage: Int { 4096 }

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
    }

    var freeSpace: Int { capacity - count }
    var isEmpty: Bool { count == 0 }
    /// Bytes of storage allocated now.
    var allocated: Int { storage.count }

    /// Makes sure bytes up to `end` (counted from the head) have storage: grows to the next
    /// power of two (at least `minimumStorage`, at most `capacity`), keeping every byte's
    /// offset from the head. False when `memory` cannot pay for it.
    mutating func reserve(upTo end: Int, memory: inout BufferMemory) -> Bool {
        precondition(end <= capacity, "ring reservation past capacity")
        let old = storage.count
        guard end > old else { return true }
        var size = max(Self.minimumStorage, old)
        while size < end { size *= 2 }
        size = min(size, capacity)
        guard memory.take(size - old) else { return false }
        // Every byte keeps its offset from the head: positions below the old size are copied
        // in ring order (readable bytes and any out-of-order bytes past the tail alike).
        let oldHead = head
        storage = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            if old > 0 {
                let target = UnsafeMutableRawBufferPointer(buffer)
                self.storage.withUnsafeBytes { source in
                    let first = old - oldHead
                    UnsafeMutableRawBufferPointer(rebasing: target[0..<first])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[oldHead..<old]))
                    UnsafeMutableRawBufferPointer(rebasing: target[first..<old])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<oldHead]))
                }
            }
            initialized = size
        }
        head = 0
        return true
    }

    /// `reserve`, settling for less (halving the request) when the budget cannot pay it all:
    /// a writer gets what memory there is rather than nothing.
    private mutating func reserveWhatFits(upTo end: Int, memory: inout BufferMemory) {
        var target = end
        while target > storage.count && !reserve(upTo: target, memory: &memory) {
            target /= 2
        }
    }

    /// Frees the storage of an empty ring that has grown past `minimumStorage` (or all of it
    /// with `keepingNone`). The caller knows no out-of-order bytes wait past the tail.
    mutating func releaseIfDrained(memory: inout BufferMemory, keepingNone: Bool = false) {
        guard count == 0, storage.count > (keepingNone ? 0 : Self.minimumStorage) else { return }
        memory.give(storage.count)
        storage = []
        head = 0
    }

    /// Gives all storage back, whatever it holds: the connection is gone.
    mutating func releaseAll(memory: inout BufferMemory) {
        memory.give(storage.count)
        storage = []
        head = 0
        count = 0
    }

    /// Copies `bytes` into the free space starting `offset` bytes past the tail, wrapping;
    /// they become readable only when committed. The caller reserved storage for them.
    mutating func write(_ bytes: UnsafeRawBufferPointer, atOffsetPastTail offset: Int) {
        precondition(offset >= 0 && count + offset + bytes.count <= storage.count, "ring write past storage")
        guard !bytes.isEmpty else { return }
        let size = storage.count
        let start = (head + count + offset) % size
        let first = min(bytes.count, size - start)
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
        precondition(length >= 0 && count + length <= storage.count)
        count += length
    }

    /// Appends as much of `bytes` as fits in the capacity and the budget; returns how much.
    @discardableResult
    mutating func append(_ bytes: UnsafeRawBufferPointer, memory: inout BufferMemory) -> Int {
        reserveWhatFits(upTo: count + min(bytes.count, freeSpace), memory: &memory)
        let length = min(bytes.count, freeSpace, storage.count - count)
        write(UnsafeRawBufferPointer(rebasing: bytes[0..<length]), atOffsetPastTail: 0)
        count += length
        return length
    }

    /// Lends the contiguous free space after the tail (at most `maximumLength` bytes) to `body`,
    /// which returns how many bytes it wrote there; those become readable.
    mutating func appendInPlace(maximumLength: Int, memory: inout BufferMemory,
                                _ body: (UnsafeMutableRawBufferPointer) -> Int) -> Int {
        reserveWhatFits(upTo: count + min(maximumLength, freeSpace), memory: &memory)
        let size = storage.count
        guard size > count else { return 0 }
        let tail = (head + count) % size
        let contiguous = min(maximumLength, size - count, size - tail)
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
        forEachPiece(fromOffset: offset, length: destination.count) { piece, at in
            UnsafeMutableRawBufferPointer(rebasing: destination[at..<(at + piece.count)]).copyMemory(from: piece)
        }
    }

    /// `copy(fromOffset:into:)` that also sums what it copies, in the same pass (the payload of
    /// a segment on its way into a TX frame: its checksum without reading it again).
    func copy(fromOffset offset: Int, into destination: UnsafeMutableRawBufferPointer, summing checksum: inout InternetChecksum) {
        forEachPiece(fromOffset: offset, length: destination.count) { piece, at in
            checksum.add(copying: piece, into: UnsafeMutableRawBufferPointer(rebasing: destination[at..<(at + piece.count)]))
        }
    }

    /// The readable bytes `offset ..< offset + length` after the head, in order, as the one or
    /// two pieces the ring holds them in, each with its position in that range.
    private func forEachPiece(fromOffset offset: Int, length: Int, _ body: (UnsafeRawBufferPointer, Int) -> Void) {
        precondition(offset >= 0 && offset + length <= count, "ring read past readable bytes")
        guard length > 0 else { return }
        let size = storage.count
        let start = (head + offset) % size
        let first = min(length, size - start)
        storage.withUnsafeBytes { ring in
            body(UnsafeRawBufferPointer(rebasing: ring[start..<(start + first)]), 0)
            if first < length { body(UnsafeRawBufferPointer(rebasing: ring[0..<(length - first)]), first) }
        }
    }

    /// Moves up to `maximumLength` readable bytes from the head of `source` to the tail of
    /// `destination`, as much as its capacity and the budget allow; returns how many.
    static func move(from source: inout ByteRing, to destination: inout ByteRing, maximumLength: Int,
                     memory: inout BufferMemory) -> Int {
        var moved = 0
        while moved < maximumLength {
            let step = source.consumeInPlace { bytes in
                destination.append(UnsafeRawBufferPointer(rebasing: bytes[..<min(bytes.count, maximumLength - moved)]),
                                   memory: &memory)
            }
            if step == 0 { break }
            moved += step
        }
        return moved
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
        guard length > 0 else { return }
        head = (head + length) % storage.count
        count -= length
    }
}
