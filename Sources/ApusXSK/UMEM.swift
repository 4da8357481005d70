#if canImport(Glibc)
import Glibc
#endif

/// The packet memory shared with the kernel: `frameCount` frames of
/// `frameSize` bytes, page-aligned, and the pool of frames nobody is using.
///
/// Frame ownership (DESIGN decision 4): every frame is in exactly one place
/// (free here, the fill ring, the RX ring, the application, the TX ring, the
/// completion ring); `free` counts the first, the socket counts the rest.
public struct UMEM: ~Copyable {
    public let base: UnsafeMutableRawPointer
    public let frameSize: UInt32
    public let frameCount: UInt32
    @usableFromInline var freeFrames: [UInt64]

    /// Bytes mapped (a whole number of huge pages when they are used).
    public let length: Int

    /// Maps the area (anonymous, private, populated); frames start free.
    /// With `hugePages` the area sits in 2 MiB pages (fewer TLB misses per
    /// packet); they must have been reserved (vm.nr_hugepages).
    public init(frameCount: UInt32, frameSize: UInt32 = 4096, hugePages: Bool = false) throws(XSKError) {
        precondition(frameSize >= 2048 && frameSize & (frameSize - 1) == 0, "AF_XDP frames are a power of two, 2048...4096")
        precondition(frameCount > 0)
        let huge = 2 << 20
        let length = hugePages ? (Int(frameSize) * Int(frameCount) + huge - 1) / huge * huge : Int(frameSize) * Int(frameCount)
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | (hugePages ? MAP_HUGETLB : 0)
        let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, flags, -1, 0)
        guard let mapped, mapped != MAP_FAILED else {
            let code = errno
            throw XSKError("mmap of a \(length)-byte UMEM\(hugePages ? " in huge pages" : "")", errno: code,
                           hint: hugePages ? "reserve 2 MiB pages first (sysctl vm.nr_hugepages=\(length / huge)) or run without huge pages"
                                           : XSKError.defaultHint(code))
        }
        self.base = mapped
        self.length = length
        self.frameSize = frameSize
        self.frameCount = frameCount
        self.freeFrames = (0..<UInt64(frameCount)).reversed().map { $0 * UInt64(frameSize) }
    }

    deinit { munmap(base, length) }

    /// Frames in the free pool.
    @inlinable public var freeCount: Int { freeFrames.count }

    /// Takes a free frame's address.
    @inlinable public mutating func allocate() -> UInt64? { freeFrames.popLast() }

    /// Returns a frame (any address inside it) to the pool.
    @inlinable
    public mutating func free(_ address: UInt64) {
        freeFrames.append(address & ~UInt64(frameSize - 1))
    }

    /// The bytes of a packet at `address` (an RX/TX descriptor's address) of `length` bytes.
    @inlinable
    public func packet(at address: UInt64, length: Int) -> UnsafeMutableRawBufferPointer {
        precondition(address + UInt64(length) <= UInt64(self.length), "descriptor outside the UMEM")
        return UnsafeMutableRawBufferPointer(start: base + Int(address), count: length)
    }
}
