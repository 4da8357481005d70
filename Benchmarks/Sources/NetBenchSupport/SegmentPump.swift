// Two ApusNet stacks joined back to back through fixed frame memory: the
// steady state of one TCP connection, for measuring what a data segment
// costs the sender and the receiver (time and allocations).
import ApusNet
import ApusWire

/// A `FrameTransmitter` over preallocated frames: what an AF_XDP TX ring
/// gives the stack, without the ring (and without any allocation).
public struct FixedFrames: FrameTransmitter {
    public let memory: UnsafeMutableRawBufferPointer
    public var lengths: [Int]
    public var count = 0
    static let frameSize = 2048

    public init(frames: Int) {
        memory = .allocate(byteCount: frames * Self.frameSize, alignment: 64)
        memory.initializeMemory(as: UInt8.self, repeating: 0)
        lengths = [Int](repeating: 0, count: frames)
    }

    public mutating func transmit(maximumLength: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) -> Bool {
        guard count < lengths.count, maximumLength <= Self.frameSize else { return false }
        let frame = UnsafeMutableRawBufferPointer(rebasing: memory[(count * Self.frameSize)..<((count + 1) * Self.frameSize)])
        let length = write(frame)
        if length > 0 {
            lengths[count] = length
            count += 1
        }
        return true
    }

    public func frame(_ index: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: memory[(index * Self.frameSize)..<(index * Self.frameSize + lengths[index])])
    }
}

/// One established connection between `client` and `server`; the client
/// sends full-sized segments, the server reads and acknowledges them.
public struct SegmentPump {
    public var client: NetStack
    public var server: NetStack
    var toServer = FixedFrames(frames: 64)
    var toClient = FixedFrames(frames: 64)
    let clientConnection: TCPHandle
    var serverConnection: TCPHandle
    public var now = NetInstant.seconds(1)
    public let segmentSize: Int
    var payload: [UInt8]
    var sink: [UInt8]

    public init() {
        let clientIP = IPv4Address(10, 0, 0, 2), serverIP = IPv4Address(10, 0, 0, 1)
        let clientMAC = MACAddress(2, 0, 0, 0, 0, 2), serverMAC = MACAddress(2, 0, 0, 0, 0, 1)
        func configuration(_ mac: MACAddress, _ ip: IPv4Address) -> NetStackConfiguration {
            var configuration = NetStackConfiguration(interface: InterfaceConfiguration(
                macAddress: mac, addresses: [ip], subnet: IPv4Subnet(address: ip, prefixLength: 24)))
            configuration.tcp.sendBufferSize = 1 << 20
            configuration.tcp.receiveBufferSize = 1 << 20
            return configuration
        }
        client = NetStack(configuration: configuration(clientMAC, clientIP))
        server = NetStack(configuration: configuration(serverMAC, serverIP))
        try! server.listen(on: 9000)
        clientConnection = try! client.connect(to: serverIP, port: 9000, at: now)
        serverConnection = clientConnection
        // MSS 1460 minus 12 bytes of timestamps option.
        segmentSize = 1448
        payload = [UInt8](repeating: 0x5A, count: 1448)
        sink = [UInt8](repeating: 0, count: 1 << 16)
        var accepted: TCPHandle?
        for _ in 0..<50 where accepted == nil {
            exchange()
            while let event = server.nextEvent() { if case .accepted(let handle, _) = event { accepted = handle } }
            while client.nextEvent() != nil {}
        }
        serverConnection = accepted!
        // Warm up: buffers, congestion window and the ARP cache reach their steady state.
        for _ in 0..<10_000 { _ = sendSegment(); _ = receiveAndAcknowledge() }
    }

    /// Moves every frame each side has to send to the other, once.
    mutating func exchange() {
        client.poll(at: now, transmitter: &toServer)
        Self.deliver(&toServer, to: &server, at: now)
        server.poll(at: now, transmitter: &toClient)
        Self.deliver(&toClient, to: &client, at: now)
    }

    static func deliver(_ frames: inout FixedFrames, to stack: inout NetStack, at now: NetInstant) {
        for index in 0..<frames.count { stack.receive(frames.frame(index), at: now) }
        frames.count = 0
    }

    /// The sender's half: one segment's worth written and sent. Returns frames sent.
    public mutating func sendSegment() -> Int {
        now += .microseconds(5)
        _ = payload.withUnsafeBytes { try! client.write($0, to: clientConnection, at: now) }
        client.poll(at: now, transmitter: &toServer)
        return toServer.count
    }

    /// The receiver's half: the segments received, read by the application and
    /// acknowledged; the ACKs are fed back to the sender. Returns bytes read.
    public mutating func receiveAndAcknowledge() -> Int {
        Self.deliver(&toServer, to: &server, at: now)
        var read = 0
        while true {
            let count = sink.withUnsafeMutableBytes { try! server.read(from: serverConnection, into: $0, at: now) }
            if count == 0 { break }
            read += count
        }
        while server.nextEvent() != nil {}
        server.poll(at: now, transmitter: &toClient)
        Self.deliver(&toClient, to: &client, at: now)
        while client.nextEvent() != nil {}
        return read
    }
}
