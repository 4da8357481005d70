import ApusExamples
import ApusNet
import ApusRPC
import ApusTesting
import ApusThrift
import ApusWire
import ApusXSK
import Logging
import Synchronization
import Testing
@testable import ApusTransportXDP

/// The queue engine end to end without privileges: a server engine and a
/// client engine, each on its own thread, joined by an in-memory link instead
/// of an AF_XDP queue. Everything above the device is the production path:
/// ApusNet's TCP, message cutting and reassembly, dispatch on the queue's
/// executor, replies encoded into the send buffer, back pressure.
@Suite(.serialized)
struct EngineTests {
    @Test func echoCallsOverSeveralConnectionsAllComeBackCorrect() async throws {
        try await withPair(connections: 4) { (client: XDPClientTransport) async throws in
            let echo = Echo.Client(client)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<16 {
                    group.addTask(executorPreference: client.taskExecutor) {
                        for call in 0..<50 {
                            let message = "worker \(worker) call \(call) " + String(repeating: "x", count: call * 7)
                            do { let got = try await echo.echo(message: message); #expect(got == message) }
                        }
                    }
                }
                try await group.waitForAll()
            }
            // From a task on the global pool too: one hop onto the queue's thread and back.
            do { let got = try await echo.echo(message: "from elsewhere"); #expect(got == "from elsewhere") }
        }
    }

    @Test func fourMegabyteMessagesAreReassembledAndRepliesHeldBackUntilTheyFit() async throws {
        try await withPair(connections: 1) { client in
            let echo = Echo.Client(client)
            let payload = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
            do { let got = try await echo.echoBinary(payload: payload); #expect(got == payload) }
            do { let got = try await echo.echo(message: "after"); #expect(got == "after") }
        }
    }

    @Test func declaredExceptionsAndOnewayCallsWork() async throws {
        try await withPair(connections: 2) { client in
            let kv = KV.Client(client)
            try await kv.put(key: "k", value: [1, 2, 3])
            do { let got = try await kv.get(key: "k"); #expect(got == [1, 2, 3]) }
            await #expect(throws: NotFound(key: "missing")) { try await kv.get(key: "missing") }
            do { let got = try await kv.remove(key: "k"); #expect(got) }
            do { let got = try await kv.count(); #expect(got == 0) }
            let echo = Echo.Client(client)
            for id in 0..<5 { try await echo.fire(id: Int64(id)) }
            var fired: Int64 = 0
            for _ in 0..<200 where fired < 5 {
                fired = try await echo.firedCount()
                if fired < 5 { try await Task.sleep(for: .milliseconds(5)) }
            }
            #expect(fired == 5)
        }
    }

    @Test func unknownMethodsAnswerWithAnApplicationException() async throws {
        try await withPair(connections: 1) { client in
            let unknown = MethodDescriptor(service: "Echo", method: "noSuchMethod", kind: .call)
            await #expect(throws: RPCError.self) {
                try await client.call(Echo.PingArgs(), method: unknown, options: .defaults, result: Echo.PingResult.self)
            }
            do { let got = try await Echo.Client(client).echo(message: "still fine"); #expect(got == "still fine") }
        }
    }

    @Test func callsSurviveLossReorderingAndDuplication() async throws {
        let impairment = LinkImpairment(lossRate: 0.02, reorderRate: 0.05, duplicationRate: 0.01)
        try await withPair(connections: 8, impairment: (impairment, seed: 5)) { client in
            let echo = Echo.Client(client)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask(executorPreference: client.taskExecutor) {
                        for call in 0..<40 {
                            let message = "w\(worker)c\(call)" + String(repeating: "y", count: 100 + call * 53)
                            do { let got = try await echo.echo(message: message, options: CallOptions(timeout: .seconds(60))); #expect(got == message) }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func aSlowCallsDeadlineFiresAfterAnEarlierDeadlinedCallFinished() async throws {
        // The client keeps one earliest deadline for all its connections (no walk over them every
        // pass): a finished call's earlier deadline must not hide a pending one's. Without the
        // deadline the slow call would succeed once its reply came, 600 ms later.
        try await withPair(connections: 2, echoDelay: .milliseconds(600), lateReplies: true) { client in
            let echo = Echo.Client(client)
            try await echo.ping(options: CallOptions(timeout: .milliseconds(100)))
            do {
                let got = try await echo.echo(message: "slow", options: CallOptions(timeout: .milliseconds(200)))
                Issue.record("the call outlived its timeout and got \(got)")
            } catch let error as RPCError {
                #expect(error.code == .deadlineExceeded)
            }
            // The late reply is dropped; the connections still serve.
            #expect(try await echo.echo(message: "again", options: CallOptions(timeout: .seconds(30))) == "again")
        }
    }

    @Test func aCallWithATimeoutFailsWhenTheServerIsUnreachable() async throws {
        let link = Link()
        let client = try makeEngine(.client(connections: 1, protocolID: .binary), address: Self.clientAddress, mac: Self.clientMAC)
        let thread = try PinnedThread(name: "test-client", cpu: nil) {
            run(client, on: PipeDevice(inbound: link.toClient, outbound: link.toServer))
        }
        await client.started.wait()
        let transport = XDPClientTransport(engine: client)
        // No server engine reads `toServer`: ARP is never answered.
        await #expect(throws: RPCError.self) {
            try await Echo.Client(transport).echo(message: "x", options: CallOptions(timeout: .milliseconds(300)))
        }
        await transport.close()
        thread.join()
    }

    // MARK: Harness

    static let serverAddress = IPv4Address(10, 0, 0, 1)
    static let clientAddress = IPv4Address(10, 0, 0, 2)
    static let serverMAC = MACAddress(0x02, 0, 0, 0, 0, 0x01)
    static let clientMAC = MACAddress(0x02, 0, 0, 0, 0, 0x02)

    enum Role {
        case server(ServerDispatcher)
        case client(connections: Int, protocolID: ThriftProtocolID)
    }

    static let silent = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func makeEngine(_ role: Role, address: IPv4Address, mac: MACAddress,
                    impairment: (LinkImpairment, seed: UInt64)? = nil) throws -> QueueEngine {
        var network = NetStackConfiguration(interface: InterfaceConfiguration(
            macAddress: mac, addresses: [address], subnet: IPv4Subnet(address: address, prefixLength: 24)))
        network.tcp.timeWaitDuration = .milliseconds(100)
        network.tcp.minimumRTO = .milliseconds(20)
        network.tcp.initialRTO = .milliseconds(50)
        var options = QueueEngine.Options()
        if let (impairment, seed) = impairment { options.deviceWrapper = ImpairingWrapper(impairment, seed: seed) }
        switch role {
        case .server(let dispatcher):
            let connection = ServerConnection.Configuration(framing: nil, protocol: nil, limits: .default,
                                                            readTimeout: .seconds(30), idleTimeout: .seconds(600))
            return try QueueEngine(queue: 0, network: network, logger: Self.silent, options: options) { engine in
                XDPServerConnections(engine: engine, dispatcher: dispatcher, port: 9090, configuration: connection)
            }
        case .client(let connections, let protocolID):
            let placement = XDPPlacement(interface: "test", address: "\(address)")
            let configuration = XDPClientTransport.Configuration(
                placement: placement, server: Self.serverAddress, port: 9090, protocol: protocolID, connections: connections,
                engine: options)
            return try XDPClientTransport.makeEngine(queue: 0, network: network, configuration: configuration, logger: Self.silent)
        }
    }

    /// The engine's thread body over `device`, wrapped when the engine's options say so.
    func run(_ engine: QueueEngine, on device: PipeDevice) {
        if let wrapper = engine.options.deviceWrapper {
            wrapper.run(engine, on: device, pollFD: -1)
        } else {
            var device = device
            engine.run(device: &device, pollFD: -1)
        }
    }

    /// A server engine (Echo, KV) and a client engine on their own threads; `body` gets the client.
    /// `echoDelay`: Echo.echo answers that late; `lateReplies`: some calls time out, so their
    /// replies arrive as late ones and the message counts of the two ends differ.
    func withPair(connections: Int, impairment: (LinkImpairment, seed: UInt64)? = nil,
                  echoDelay: Duration = .zero, lateReplies: Bool = false,
                  _ body: (XDPClientTransport) async throws -> Void) async throws {
        var router = Router()
        router.register(Echo.service(EchoHandler()))
        router.register(KV.service(InMemoryKV()))
        if echoDelay > .zero { router.intercept(service: Echo.serviceName, method: "echo", with: DelayMiddleware(echoDelay)) }
        let dispatcher = ServerDispatcher(router: router, handler: router, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let server = try makeEngine(.server(dispatcher), address: Self.serverAddress, mac: Self.serverMAC, impairment: impairment)
        let client = try makeEngine(.client(connections: connections, protocolID: .compact),
                                    address: Self.clientAddress, mac: Self.clientMAC, impairment: impairment.map { ($0.0, $0.seed + 1) })
        let link = Link()
        let serverThread = try PinnedThread(name: "test-server", cpu: nil) {
            run(server, on: PipeDevice(inbound: link.toServer, outbound: link.toClient))
        }
        let clientThread = try PinnedThread(name: "test-client", cpu: nil) {
            run(client, on: PipeDevice(inbound: link.toClient, outbound: link.toServer))
        }
        await server.started.wait()
        await client.started.wait()
        let transport = XDPClientTransport(engine: client)
        do {
            try await body(transport)
        } catch {
            await transport.close()
            server.closeAll()
            await server.waitUntilFinished()
            clientThread.join()
            serverThread.join()
            throw error
        }
        await transport.close()
        server.closeAll()
        await server.waitUntilFinished()
        clientThread.join()
        serverThread.join()
        #expect(server.statistics.connectionsFailed == 0)
        #expect(server.statistics.accepted == client.statistics.connected)
        // Every request arrived as one message, and every reply too (final counters, published at the end).
        #expect(server.statistics.messagesReceived == client.statistics.messagesSent)
        if !lateReplies { #expect(client.statistics.messagesReceived == server.statistics.messagesSent) }
    }
}

/// Frames from one engine's thread to the other's.
final class FrameQueue: Sendable {
    private let frames = Mutex<[[UInt8]]>([])

    func push(_ batch: [[UInt8]]) { frames.withLock { $0.append(contentsOf: batch) } }

    func take(maximum: Int) -> ArraySlice<[UInt8]> {
        frames.withLock { frames in
            let count = min(maximum, frames.count)
            defer { frames.removeFirst(count) }
            return frames[..<count]
        }
    }
}

struct Link {
    let toServer = FrameQueue()
    let toClient = FrameQueue()
}

/// An `EngineDevice` over two `FrameQueue`s: what an AF_XDP queue is to the engine, minus the kernel.
struct PipeDevice: EngineDevice {
    let inbound: FrameQueue
    let outbound: FrameQueue
    var unsent: [[UInt8]] = []

    mutating func receive(at now: NetInstant, maximum: Int, _ body: (UnsafeRawBufferPointer) -> Void) -> Int {
        let frames = inbound.take(maximum: maximum)
        for frame in frames { frame.withUnsafeBytes(body) }
        return frames.count
    }

    mutating func transmit(maximumLength: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) -> Bool {
        var frame = [UInt8](repeating: 0, count: maximumLength)
        let length = frame.withUnsafeMutableBytes(write)
        if length > 0 { unsent.append(Array(frame[..<length])) }
        return true
    }

    mutating func flush(at now: NetInstant) {
        guard !unsent.isEmpty else { return }
        outbound.push(unsent)
        unsent.removeAll(keepingCapacity: true)
    }

    /// No descriptor to sleep on: come back soon to look at the queue.
    var nextDeadline: NetInstant { MonotonicClock.now() + .microseconds(200) }
    mutating func wait(until deadline: NetInstant, now: NetInstant) {}
    var transmitOutstanding: Bool { false }
    var frameAccounting: FrameAccounting { FrameAccounting(total: 0) }
    var transmitBlocked: Int { 0 }
    mutating func drainTransmit() { flush(at: MonotonicClock.now()) }
}
