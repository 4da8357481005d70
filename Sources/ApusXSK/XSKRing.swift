import Atomics

/// The shared words of one AF_XDP ring, wherever they live: mmap'd from the
/// socket, or (in tests) plain memory standing in for the kernel's side.
public struct XSKRingMemory: @unchecked Sendable {
    public let producer: UnsafeMutablePointer<UInt32>
    public let consumer: UnsafeMutablePointer<UInt32>
    public let flags: UnsafeMutablePointer<UInt32>
    public let descriptors: UnsafeMutableRawPointer
    /// Entries; a power of two.
    public let size: UInt32

    public init(producer: UnsafeMutablePointer<UInt32>, consumer: UnsafeMutablePointer<UInt32>,
                flags: UnsafeMutablePointer<UInt32>, descriptors: UnsafeMutableRawPointer, size: UInt32) {
        precondition(size > 0 && size & (size - 1) == 0, "ring sizes are powers of two")
        self.producer = producer
        self.consumer = consumer
        self.flags = flags
        self.descriptors = descriptors
        self.size = size
    }

    @inlinable var producerAtomic: UnsafeAtomic<UInt32> { UnsafeAtomic(at: UnsafeMutableRawPointer(producer).assumingMemoryBound(to: UInt32.AtomicRepresentation.self)) }
    @inlinable var consumerAtomic: UnsafeAtomic<UInt32> { UnsafeAtomic(at: UnsafeMutableRawPointer(consumer).assumingMemoryBound(to: UInt32.AtomicRepresentation.self)) }
    @inlinable var flagsAtomic: UnsafeAtomic<UInt32> { UnsafeAtomic(at: UnsafeMutableRawPointer(flags).assumingMemoryBound(to: UInt32.AtomicRepresentation.self)) }
}

/// The side of a ring user space fills: the fill ring (free frames for the
/// kernel to receive into) and the TX ring (packets to send).
///
/// Like libxdp, it keeps a cached view of the consumer index that runs one
/// ring size ahead, so "is there room?" reads the shared word only when the
/// cache says no. Indexes are free-running 32-bit counters; `& mask` picks
/// the slot. The consumer index is read with acquire ordering (the kernel's
/// reads of the slots happened before), the producer index published with
/// release ordering (our slot writes happen before the kernel sees them).
public struct XSKProducerRing<Element: BitwiseCopyable>: ~Copyable {
    public let memory: XSKRingMemory
    @usableFromInline var cachedProducer: UInt32
    @usableFromInline var cachedConsumer: UInt32
    @usableFromInline let mask: UInt32

    public init(_ memory: XSKRingMemory) {
        self.memory = memory
        self.mask = memory.size - 1
        self.cachedProducer = memory.producerAtomic.load(ordering: .relaxed)
        self.cachedConsumer = memory.consumerAtomic.load(ordering: .relaxed) &+ memory.size
    }

    /// Free slots, refreshing the cache only when it shows fewer than `wanted`.
    @inlinable
    public mutating func freeSlots(wanted: UInt32) -> UInt32 {
        let free = cachedConsumer &- cachedProducer
        if free >= wanted { return free }
        cachedConsumer = memory.consumerAtomic.load(ordering: .acquiring) &+ memory.size
        return cachedConsumer &- cachedProducer
    }

    /// Reserves `count` slots, all or none; returns the first index.
    @inlinable
    public mutating func reserve(_ count: UInt32) -> UInt32? {
        guard freeSlots(wanted: count) >= count else { return nil }
        let index = cachedProducer
        cachedProducer &+= count
        return index
    }

    /// Takes back the last `count` reserved and not yet submitted slots.
    @inlinable
    public mutating func unreserve(_ count: UInt32) {
        cachedProducer &-= count
    }

    /// The slot for a reserved index.
    @inlinable
    public func slot(_ index: UInt32) -> UnsafeMutablePointer<Element> {
        memory.descriptors.assumingMemoryBound(to: Element.self) + Int(index & mask)
    }

    /// Publishes every reserved slot to the kernel.
    @inlinable
    public mutating func submit() {
        memory.producerAtomic.store(cachedProducer, ordering: .releasing)
    }

    /// Whether the kernel asked to be woken (XDP_USE_NEED_WAKEUP): a syscall
    /// is needed for it to look at this ring again.
    @inlinable
    public var needsWakeup: Bool {
        memory.flagsAtomic.load(ordering: .relaxed) & 1 != 0
    }

    /// Entries submitted and not yet consumed by the kernel.
    @inlinable
    public var outstanding: UInt32 {
        cachedProducer &- memory.consumerAtomic.load(ordering: .acquiring)
    }
}

/// The side of a ring user space drains: the RX ring (received packets) and
/// the completion ring (sent frames coming back).
public struct XSKConsumerRing<Element: BitwiseCopyable>: ~Copyable {
    public let memory: XSKRingMemory
    @usableFromInline var cachedProducer: UInt32
    @usableFromInline var cachedConsumer: UInt32
    @usableFromInline let mask: UInt32

    public init(_ memory: XSKRingMemory) {
        self.memory = memory
        self.mask = memory.size - 1
        self.cachedProducer = memory.producerAtomic.load(ordering: .relaxed)
        self.cachedConsumer = memory.consumerAtomic.load(ordering: .relaxed)
    }

    /// Takes up to `maximum` filled entries; returns how many and the first index.
    /// The shared producer index is read (acquire) only when the cache is empty.
    @inlinable
    public mutating func peek(_ maximum: UInt32) -> (count: UInt32, index: UInt32) {
        var available = cachedProducer &- cachedConsumer
        if available == 0 {
            cachedProducer = memory.producerAtomic.load(ordering: .acquiring)
            available = cachedProducer &- cachedConsumer
        }
        let count = min(available, maximum)
        let index = cachedConsumer
        cachedConsumer &+= count
        return (count, index)
    }

    @inlinable
    public func entry(_ index: UInt32) -> Element {
        (memory.descriptors.assumingMemoryBound(to: Element.self) + Int(index & mask)).pointee
    }

    /// Gives every peeked entry back to the kernel (release: our reads of the
    /// slots are done before it may overwrite them).
    @inlinable
    public mutating func release() {
        memory.consumerAtomic.store(cachedConsumer, ordering: .releasing)
    }

    /// Entries the kernel produced that this side has not released
    /// (peeked ones included): frames sitting in this ring.
    public var pending: UInt32 {
        memory.producerAtomic.load(ordering: .acquiring) &- memory.consumerAtomic.load(ordering: .relaxed)
    }

    @inlinable
    public var needsWakeup: Bool {
        memory.flagsAtomic.load(ordering: .relaxed) & 1 != 0
    }
}
