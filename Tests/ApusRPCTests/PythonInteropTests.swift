import ApusExamples
import ApusRPC
import ApusThrift
import ApusTransportPosix
import Foundation
import Testing

/// The Apus client against Apache Thrift's own Python server
/// (scripts/interop/py_server.py, code generated from Examples/echo.thrift by
/// Debian's thrift-compiler at test time): the independent truth for what
/// the client sends and how it reads replies. The reverse direction (Python
/// clients against `apus serve`) is scripts/interop/check_server.py.
@Suite(.serialized, .enabled(if: PythonThriftServer.isAvailable, "needs /usr/bin/python3 with thrift and thrift-compiler: bash scripts/setup.sh"))
struct PythonInteropTests {
    static let combinations: [(ThriftProtocolID, ThriftFraming)] = [
        (.binary, .framed), (.binary, .buffered), (.compact, .framed), (.compact, .buffered),
    ]

    /// The Apus client in THeader against Apache's Python THeader server (THeaderProtocolFactory).
    @Test(arguments: [ThriftProtocolID.binary, .compact])
    func theaderCallsAgainstApacheThriftsPythonServer(protocolID: ThriftProtocolID) async throws {
        let server = try await PythonThriftServer.start(protocol: nil, framing: .buffered, multiplexed: false)
        defer { server.stop() }
        var configuration = PosixClientTransport.Configuration(protocol: protocolID)
        configuration.header = .theader
        let transport = PosixClientTransport(host: "127.0.0.1", port: server.port, configuration: configuration)
        defer { Task { await transport.close() } }
        let echo = Echo.Client(transport)
        let options = CallOptions(timeout: .seconds(10), metadata: ["request-id": "py-1"])
        #expect(try await echo.echo(message: "over THeader", options: options) == "over THeader")
        let payload = [UInt8](repeating: 0xA5, count: 1 << 20)
        #expect(try await echo.echoBinary(payload: payload, options: options) == payload)
        try await KV.Client(transport).put(key: "k", value: [1, 2, 3])
        #expect(try await KV.Client(transport).get(key: "k") == [1, 2, 3])
    }

    @Test(arguments: combinations)
    func everyMethodAgainstApacheThriftsPythonServer(protocolID: ThriftProtocolID, framing: ThriftFraming) async throws {
        let server = try await PythonThriftServer.start(protocol: protocolID, framing: framing, multiplexed: false)
        defer { server.stop() }
        let transport = PosixClientTransport(host: "127.0.0.1", port: server.port,
                                             configuration: .init(framing: framing, protocol: protocolID, connections: 2))
        defer { Task { await transport.close() } }
        let echo = Echo.Client(transport)
        let kv = KV.Client(transport)

        #expect(try await echo.echo(message: "héllo wörld ✓ 日本") == "héllo wörld ✓ 日本")
        #expect(try await echo.echo(message: "") == "")
        var generator = SystemRandomNumberGenerator()
        let payload = (0..<(4 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(try await echo.echoBinary(payload: payload) == payload)
        let item = Item(id: .min, title: "title", extra: Dictionary(uniqueKeysWithValues: (0..<50).map { ("k\($0)", "v\($0)") }))
        #expect(try await echo.echoItem(item: item) == item)
        #expect(try await echo.echoItem(item: Item(id: .max, title: "")) == Item(id: .max, title: ""))
        try await echo.ping()
        let before = try await echo.firedCount()
        for id in 0..<10 { try await echo.fire(id: Int64(id)) }
        let deadline = ContinuousClock.now + .seconds(5)
        var fired = try await echo.firedCount()
        while fired < before + 10 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            fired = try await echo.firedCount()
        }
        #expect(fired == before + 10)

        try await kv.put(key: "clé", value: Array("value".utf8))
        try await kv.put(key: "big", value: Array(payload.prefix(1 << 20)))
        try await kv.put(key: "empty", value: [])
        #expect(try await kv.get(key: "clé") == Array("value".utf8))
        #expect(try await kv.get(key: "big") == Array(payload.prefix(1 << 20)))
        #expect(try await kv.get(key: "empty") == [])
        #expect(try await kv.count() == 3)
        do {
            _ = try await kv.get(key: "missing")
            Issue.record("get of a missing key returned a value")
        } catch let error as NotFound {
            #expect(error.key == "missing")
        }
        #expect(try await kv.remove(key: "clé"))
        #expect(try await !kv.remove(key: "clé"))
        #expect(try await kv.count() == 2)
    }

    @Test func multiplexedNamesAgainstTMultiplexedProcessor() async throws {
        let server = try await PythonThriftServer.start(protocol: .binary, framing: .framed, multiplexed: true)
        defer { server.stop() }
        let transport = PosixClientTransport(host: "127.0.0.1", port: server.port, configuration: .init(multiplexed: true))
        defer { Task { await transport.close() } }
        #expect(try await Echo.Client(transport).echo(message: "mux") == "mux")
        try await KV.Client(transport).put(key: "a", value: [1])
        #expect(try await KV.Client(transport).get(key: "a") == [1])
    }

    @Test func apacheUnknownMethodExceptionsMapToUnknownMethod() async throws {
        let server = try await PythonThriftServer.start(protocol: .binary, framing: .framed, multiplexed: true)
        defer { server.stop() }
        let transport = PosixClientTransport(host: "127.0.0.1", port: server.port, configuration: .init(multiplexed: true))
        defer { Task { await transport.close() } }
        let bogus = MethodDescriptor(service: "Echo", method: "noSuchMethod")
        await expectRPCError(.unknownMethod) {
            try await transport.call(EmptyStruct(), method: bogus, options: .defaults, result: EmptyStruct.self)
        }
        #expect(try await Echo.Client(transport).echo(message: "still fine") == "still fine")
    }
}

/// scripts/interop/py_server.py as a child process; stopped by closing its stdin.
final class PythonThriftServer: @unchecked Sendable {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let python = "/usr/bin/python3"

    static let isAvailable: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import thrift, shutil, sys; sys.exit(0 if shutil.which('thrift') else 1)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    let process = Process()
    let stdin = Pipe()
    let port: Int

    struct StartFailure: Error, CustomStringConvertible { var description: String }

    /// Starts the server off the cooperative thread pool: reading its READY line
    /// blocks, and a blocked pool thread (there are as many as cores) stalls other tests.
    /// `protocolID` nil: THeader (the server reads binary or compact inside it).
    static func start(protocol protocolID: ThriftProtocolID?, framing: ThriftFraming, multiplexed: Bool) async throws -> PythonThriftServer {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try PythonThriftServer(protocol: protocolID, framing: framing, multiplexed: multiplexed) })
            }
            thread.start()
        }
    }

    private init(protocol protocolID: ThriftProtocolID?, framing: ThriftFraming, multiplexed: Bool) throws {
        let stdout = Pipe()
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = [Self.repository.appendingPathComponent("scripts/interop/py_server.py").path,
                             "--port", "0", "--protocol", protocolID?.rawValue ?? "header", "--framing", framing.rawValue]
            + (multiplexed ? ["--multiplexed"] : [])
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        // Read up to the READY line (bounded: the server prints it within a second or two).
        var line = Data()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
            if line.contains(UInt8(ascii: "\n")) { break }
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let ready = text.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }),
              let port = Int(ready.dropFirst(6).trimmingCharacters(in: .whitespaces)) else {
            process.terminate()
            throw StartFailure(description: "py_server.py did not print READY <port>; it printed: \(text)")
        }
        self.port = port
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
