import ApusXSK
import Testing

/// Ring memory in ordinary memory: the test plays the kernel's side by
/// moving the shared indexes the way the kernel does.
final class FakeRing {
    let words = UnsafeMutablePointer<UInt32>.allocate(capacity: 3)
    let descriptors: UnsafeMutableRawPointer
    let size: UInt32

    init(size: UInt32, entry: Int, start: UInt32 = 0) {
        self.size = size
        descriptors = .allocate(byteCount: Int(size) * entry, alignment: 16)
        words.initialize(repeating: start, count: 2)
        words[2] = 0
    }

    deinit {
        words.deallocate()
        descriptors.deallocate()
    }

    var memory: XSKRingMemory {
        XSKRingMemory(producer: words, consumer: words + 1, flags: words + 2, descriptors: descriptors, size: size)
    }

    var producer: UInt32 { get { words[0] } set { words[0] = newValue } }
    var consumer: UInt32 { get { words[1] } set { words[1] = newValue } }
    var flags: UInt32 { get { words[2] } set { words[2] = newValue } }

    func address(at index: UInt32) -> UInt64 {
        descriptors.assumingMemoryBound(to: UInt64.self)[Int(index & (size - 1))]
    }

    func put(_ descriptor: XDPDescriptor, at index: UInt32) {
        descriptors.assumingMemoryBound(to: XDPDescriptor.self)[Int(index & (size - 1))] = descriptor
    }
}

@Suite struct ProducerRingTests {
    @Test func reservesAllOrNothingAndPublishesOnSubmit() {
        let fake = FakeRing(size: 8, entry: 8)
        var ring = XSKProducerRing<UInt64>(fake.memory)
        let first = ring.reserve(5)!
        for i in 0..<5 { ring.slot(first &+ UInt32(i)).pointee = UInt64(i * 4096) }
        #expect(fake.producer == 0) // nothing visible before submit
        ring.submit()
        #expect(fake.producer == 5)
        let tooMany = ring.reserve(4)
        #expect(tooMany == nil) // only 3 free
        let rest = ring.reserve(3)
        #expect(rest != nil)
        ring.submit()
        #expect(fake.producer == 8)
        #expect((0..<5).map { fake.address(at: UInt32($0)) } == [0, 4096, 8192, 12288, 16384])
    }

    @Test func seesFreedSlotsOnlyWhenItsCacheRunsOut() {
        let fake = FakeRing(size: 4, entry: 8)
        var ring = XSKProducerRing<UInt64>(fake.memory)
        _ = ring.reserve(4)
        ring.submit()
        let beforeRelease = ring.reserve(1)
        #expect(beforeRelease == nil)
        fake.consumer = 2 // the kernel took two
        let free = ring.freeSlots(wanted: 1)
        #expect(free == 2)
        let next = ring.reserve(2)
        #expect(next == 4)
        let outstanding = ring.outstanding
        #expect(outstanding == 4)
    }

    @Test func indexesWrapAroundUInt32() {
        let start = UInt32.max - 2
        let fake = FakeRing(size: 4, entry: 8, start: start)
        var ring = XSKProducerRing<UInt64>(fake.memory)
        for round in 0..<10 {
            let index = ring.reserve(3)!
            for i in 0..<3 { ring.slot(index &+ UInt32(i)).pointee = UInt64(round * 10 + i) }
            ring.submit()
            #expect(fake.producer == index &+ 3)
            for i in 0..<3 { #expect(fake.address(at: index &+ UInt32(i)) == UInt64(round * 10 + i)) }
            fake.consumer = fake.producer // the kernel consumed everything
        }
    }

    @Test func reportsTheKernelsWakeupRequest() {
        let fake = FakeRing(size: 4, entry: 8)
        let ring = XSKProducerRing<UInt64>(fake.memory)
        let before = ring.needsWakeup
        #expect(!before)
        fake.flags = 1 // XDP_RING_NEED_WAKEUP
        let after = ring.needsWakeup
        #expect(after)
    }
}

@Suite struct ConsumerRingTests {
    @Test func peeksWhatTheKernelProducedAndReleasesIt() {
        let fake = FakeRing(size: 8, entry: 16)
        var ring = XSKConsumerRing<XDPDescriptor>(fake.memory)
        let none = ring.peek(64).count
        #expect(none == 0)
        for i in 0..<3 { fake.put(XDPDescriptor(address: UInt64(i) * 4096, length: UInt32(60 + i)), at: UInt32(i)) }
        fake.producer = 3
        let (count, index) = ring.peek(2)
        #expect(count == 2)
        let firstLength = ring.entry(index).length
        #expect(firstLength == 60)
        let secondLength = ring.entry(index &+ 1).length
        #expect(secondLength == 61)
        #expect(fake.consumer == 0)
        ring.release()
        #expect(fake.consumer == 2)
        let rest = ring.peek(64)
        let lastAddress = ring.entry(rest.index).address
        #expect(rest.count == 1 && lastAddress == 8192)
        ring.release()
        #expect(fake.consumer == 3)
    }

    @Test func wrapsAroundTheRingAndTheCounter() {
        let start = UInt32.max - 1
        let fake = FakeRing(size: 4, entry: 16, start: start)
        var ring = XSKConsumerRing<XDPDescriptor>(fake.memory)
        var seen: [UInt32] = []
        for round in 0..<5 {
            for i in 0..<3 {
                fake.put(XDPDescriptor(address: 0, length: UInt32(round * 3 + i)), at: fake.producer &+ UInt32(i))
            }
            fake.producer &+= 3
            let (count, index) = ring.peek(64)
            for i in 0..<count { seen.append(ring.entry(index &+ i).length) }
            ring.release()
        }
        #expect(seen == Array(0..<15))
    }
}

@Suite struct UMEMTests {
    @Test func everyFrameIsHandedOutOnceAndComesBack() throws {
        var umem = try UMEM(frameCount: 16, frameSize: 2048)
        var taken: Set<UInt64> = []
        while let frame = umem.allocate() { taken.insert(frame) }
        #expect(taken.count == 16)
        #expect(taken == Set((0..<16).map { UInt64($0) * 2048 }))
        #expect(umem.freeCount == 0)
        for frame in taken { umem.free(frame + 100) } // an address inside the frame returns the frame
        #expect(umem.freeCount == 16)
        var again: Set<UInt64> = []
        while let frame = umem.allocate() { again.insert(frame) }
        #expect(again == taken)
    }

    @Test func packetsAreViewsIntoTheArea() throws {
        let umem = try UMEM(frameCount: 4, frameSize: 4096)
        let packet = umem.packet(at: 4096 + 10, length: 4)
        packet.copyBytes(from: [1, 2, 3, 4])
        #expect(umem.base.load(fromByteOffset: 4096 + 10, as: UInt8.self) == 1)
        #expect(umem.base.load(fromByteOffset: 4096 + 13, as: UInt8.self) == 4)
    }
}

@Suite struct SetupErrorTests {
    @Test func aMissingInterfaceSaysWhichAndWhatToDo() {
        do {
            _ = try XSKSocket(interface: "apus-nope0", queue: 0)
            Issue.record("opened a socket on an interface that does not exist")
        } catch {
            #expect(error.description.contains("apus-nope0"))
            #expect(error.description.contains("testbed"))
        }
    }

    @Test func aProgramThatIsNotLoadedSaysHowToLoadIt() {
        do {
            _ = try XDPProgramMaps(interface: "apus-nope0", root: "/tmp/apus-no-bpffs-here")
            Issue.record("opened maps that are not pinned")
        } catch {
            #expect(error.description.contains("not loaded"))
            #expect(error.description.contains("scripts/xdp-load.sh apus-nope0"))
        }
    }
}

@Suite struct FrameAccountingTests {
    @Test func framesInTheRingsAreCountedAcrossTheWrap() {
        let fake = FakeRing(size: 4, entry: 16, start: UInt32.max)
        var ring = XSKConsumerRing<XDPDescriptor>(fake.memory)
        fake.producer &+= 3
        #expect(ring.pending == 3)
        _ = ring.peek(2)
        // Peeked but not released: still in the ring as far as the kernel knows.
        #expect(ring.pending == 3)
        ring.release()
        #expect(ring.pending == 1)
    }

    @Test func whatNoRingHoldsTheApplicationHas() {
        let frames = FrameAccounting(total: 64, free: 30, fill: 20, rx: 4, tx: 3, completion: 2)
        #expect(frames.application == 5)
        #expect(FrameAccounting(total: 8, free: 8).application == 0)
        #expect(frames.description.contains("frames_in_app=5"))
    }
}

@Suite struct PinnedThreadTests {
    @Test func runsOnItsCPUAndJoins() throws {
        let cpus = PinnedThread.allowedCPUs()
        #expect(!cpus.isEmpty && cpus == cpus.sorted())
        let ran = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        defer { ran.deallocate() }
        ran.pointee = -1
        let address = Int(bitPattern: ran)
        let thread = try PinnedThread(name: "apus-test", cpu: cpus.last!) {
            // The thread sees only its own CPU once pinned.
            let mine = PinnedThread.allowedCPUs()
            UnsafeMutablePointer<Int>(bitPattern: address)!.pointee = mine.count == 1 ? mine[0] : -2
        }
        thread.join()
        #expect(ran.pointee == cpus.last!)
    }
}
