import ApusExamples
import ApusNet
import ApusRPC
import ApusThrift
import ApusWire
import ApusXSK
import Logging
import Synchronization
import Testing
@testable import ApusTransportXDP

/// Clients that reset (RST) right after a call, before or after its reply,
/// for every kind of reply, against the XDP server engine over an in-memory
/// link. The client is a bare ApusNet stack on the test's thread, so it can
/// abort at any point; the server is the production engine.
@Suite(.serialized) struct EngineResetTests {
    @Test func aResetAfterEachKindOfReplyLeavesTheServerServing() async throws {
        let harness = EngineTests()
        var router = Router()
        router.register(Echo.service(FailingEcho()))
        router.register(KV.service(InMemoryKV()))
        let dispatcher = ServerDispatcher(router: router, handler: router, logger: EngineTests.silent)
        let server = try harness.makeEngine(.server(dispatcher), address: EngineTests.serverAddress, mac: EngineTests.serverMAC)
        let link = Link()
        let thread = try PinnedThread(name: "test-server", cpu: nil) {
            harness.run(server, on: PipeDevice(inbound: link.toServer, outbound: link.toClient))
        }
        await server.started.wait()
        var client = RawClient(link: link)
        let calls: [(String, [UInt8])] = [
            ("success", frame(callBytes("echo", Echo.EchoArgs(message: "hello")))),
            ("declared exception", frame(callBytes("get", KV.GetArgs(key: "missing")))),
            ("undeclared error", frame(callBytes("echo", Echo.EchoArgs(message: "fail")))),
            ("unknown method", frame(callBytes("noSuchMethod", EmptyStruct()))),
            ("bad arguments", frame(badArguments())),
            ("reply still being produced", frame(callBytes("echo", Echo.EchoArgs(message: "slow")))),
        ]
        for (kind, call) in calls {
            for readReply in [false, true] where !(readReply && kind == "reply still being produced") {
                let handle = try client.connect()
                try client.send(call, on: handle)
                if readReply { _ = try client.receiveFrame(on: handle) } else { client.pump(for: .milliseconds(2)) }
                client.reset(handle)
                // A new connection is served normally.
                let next = try client.connect()
                try client.send(frame(callBytes("echo", Echo.EchoArgs(message: "still serving"), sequenceID: 9)), on: next)
                let reply = try parse(try client.receiveFrame(on: next))
                #expect(reply == (9, .reply), "after a reset (\(kind), reply read: \(readReply))")
                client.reset(next)
            }
        }
        client.pump(for: .milliseconds(50))
        server.stop()
        thread.join()
        // Every connection, reset or not, was accepted and is gone.
        let statistics = server.statistics
        #expect(statistics.accepted == 2 * 11)
        #expect(statistics.connections == 0)
    }

    func parse(_ bytes: [UInt8]) throws -> (Int32, MessageType) {
        try bytes.withUnsafeBytes { raw in
            let message = try IncomingMessage(parsing: raw, protocol: .binary, limits: .default)
            return (message.header.sequenceID, message.header.type)
        }
    }
}

/// Echo whose `echo` throws an undeclared error for "fail" and suspends for "slow".
struct FailingEcho: Echo.ServiceProtocol {
    struct Boom: Error {}
    func echo(message: String, context: ServerContext) async throws -> String {
        if message == "fail" { throw Boom() }
        if message == "slow" { try await Task.sleep(for: .milliseconds(20)) }
        return message
    }
    func echoBinary(payload: [UInt8], context: ServerContext) async throws -> [UInt8] { payload }
    func echoItem(item: Item, context: ServerContext) async throws -> Item { item }
    func ping(context: ServerContext) async throws {}
    func fire(id: Int64, context: ServerContext) async throws {}
    func firedCount(context: ServerContext) async throws -> Int64 { 0 }
}

func callBytes(_ name: String, _ body: some ThriftMessageBody, sequenceID: Int32 = 1) -> [UInt8] {
    try! OutgoingMessage(name: name, type: .call, sequenceID: sequenceID, body: body).encoded(protocol: .binary)
}

func badArguments() -> [UInt8] {
    var bytes = callBytes("echo", EmptyStruct())
    bytes.removeLast()  // the stop byte
    return bytes + [11, 0, 1, 0xFF, 0xFF, 0xFF, 0xFB, 0]
}

func frame(_ message: [UInt8]) -> [UInt8] {
    withUnsafeBytes(of: UInt32(message.count).bigEndian) { Array($0) } + message
}

/// A bare ApusNet stack driven on the caller's thread over the link's client end.
struct RawClient {
    struct Failure: Error { var description: String }

    var stack: NetStack
    var device: PipeDevice

    init(link: Link) {
        var network = NetStackConfiguration(interface: InterfaceConfiguration(
            macAddress: EngineTests.clientMAC, addresses: [EngineTests.clientAddress],
            subnet: IPv4Subnet(address: EngineTests.clientAddress, prefixLength: 24)))
        network.tcp.minimumRTO = .milliseconds(20)
        network.tcp.initialRTO = .milliseconds(50)
        stack = NetStack(configuration: network)
        device = PipeDevice(inbound: link.toClient, outbound: link.toServer)
    }

    /// Moves frames both ways for a while.
    mutating func pump(for duration: NetDuration) {
        let end = MonotonicClock.now() + duration
        while MonotonicClock.now() < end { step() }
    }

    mutating func step() {
        let now = MonotonicClock.now()
        _ = device.receive(at: now, maximum: 64) { stack.receive($0, at: now) }
        stack.poll(at: now, transmitter: &device)
        device.flush(at: now)
    }

    /// Pumps until `condition` holds (5 s at most).
    mutating func pump(until condition: (inout NetStack) -> Bool) throws {
        let end = MonotonicClock.now() + .seconds(5)
        while !condition(&stack) {
            guard MonotonicClock.now() < end else { throw Failure(description: "timed out") }
            step()
        }
    }

    mutating func connect() throws -> TCPHandle {
        let handle = try stack.connect(to: EngineTests.serverAddress, port: 9090, at: MonotonicClock.now())
        try pump { $0.state(of: handle) == .established }
        while stack.nextEvent() != nil {}
        return handle
    }

    mutating func send(_ bytes: [UInt8], on handle: TCPHandle) throws {
        var offset = 0
        while offset < bytes.count {
            offset += try bytes[offset...].withUnsafeBytes { try stack.write($0, to: handle, at: MonotonicClock.now()) }
            step()
        }
    }

    mutating func receive(exactly count: Int, on handle: TCPHandle) throws -> [UInt8] {
        try pump { $0.bytesAvailable(on: handle) >= count }
        var bytes = [UInt8](repeating: 0, count: count)
        let read = try bytes.withUnsafeMutableBytes { try stack.read(from: handle, into: $0, at: MonotonicClock.now()) }
        guard read == count else { throw Failure(description: "read \(read) of \(count) bytes") }
        return bytes
    }

    mutating func receiveFrame(on handle: TCPHandle) throws -> [UInt8] {
        let header = try receive(exactly: 4, on: handle)
        let length = Int(UInt32(header[0]) << 24 | UInt32(header[1]) << 16 | UInt32(header[2]) << 8 | UInt32(header[3]))
        return try receive(exactly: length, on: handle)
    }

    /// Aborts: the RST goes out at once.
    mutating func reset(_ handle: TCPHandle) {
        try? stack.abort(handle, at: MonotonicClock.now())
        step()
        while stack.nextEvent() != nil {}
    }
}
