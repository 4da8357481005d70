import ApusExamples
import ApusRPC
import ApusThrift
import ApusTransportPosix
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A client that makes one call and resets the connection (close with
/// SO_LINGER 0, as a crashing client or a middlebox does), for every kind of
/// reply and at every point of the call, against the kernel-socket server.
/// The peer is the Linux kernel's TCP driven through plain sockets. This used
/// to abort the server ("Simultaneous accesses"), on the very first reset.
@Suite(.serialized) struct ClientResetTests {
    static let kinds: [(String, [UInt8])] = [
        ("success", callBytes("echo", Echo.EchoArgs(message: "hello"), sequenceID: 1)),
        ("declared exception", callBytes("get", KV.GetArgs(key: "missing"), sequenceID: 2)),
        ("undeclared error", callBytes("echo", Echo.EchoArgs(message: "fail"), sequenceID: 3)),
        ("RPC error", callBytes("echo", Echo.EchoArgs(message: "rpc-error"), sequenceID: 4)),
        ("unknown method", callBytes("noSuchMethod", EmptyStruct(), sequenceID: 5)),
        ("bad arguments", badArguments(sequenceID: 6)),
        ("reply still being produced", callBytes("echo", Echo.EchoArgs(message: "slow:50"), sequenceID: 7)),
    ]

    @Test(arguments: ServerKind.allCases) func aResetAfterEachKindOfReplyLeavesTheServerServing(_ kind: ServerKind) async throws {
        try await withServer(kind, router: exampleRouter(echo: ScriptedEcho())) { (port, _) async throws in
            for (kind, call) in Self.kinds {
                for readReplyFirst in [false, true] {
                    for _ in 0..<3 {
                        let socket = try KernelSocket(port: port)
                        try socket.send(frame(call))
                        if readReplyFirst && kind != "reply still being produced" { _ = try socket.receiveFrame() }
                        socket.reset()
                    }
                    // Give the server a moment to see the resets, then make sure it still serves.
                    try await Task.sleep(for: .milliseconds(20))
                    let echo = try KernelSocket(port: port)
                    try echo.send(frame(callBytes("echo", Echo.EchoArgs(message: "still serving"), sequenceID: 99)))
                    let reply = try parseReply(try echo.receiveFrame())
                    #expect(reply.sequenceID == 99, "after resets (\(kind), reply read first: \(readReplyFirst))")
                    echo.reset()
                }
            }
        }
    }

    @Test(arguments: ServerKind.allCases) func aResetWhileAFourMegabyteReplyIsWrittenLeavesTheServerServing(_ kind: ServerKind) async throws {
        try await withServer(kind, router: exampleRouter()) { (port, _) async throws in
            let payload = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let call = frame(callBytes("echoBinary", Echo.EchoBinaryArgs(payload: payload), sequenceID: 1))
            for readFirst in [0, 4, 100_000] {
                let socket = try KernelSocket(port: port)
                try socket.send(call)
                if readFirst > 0 { try socket.receive(exactly: readFirst) }
                socket.reset()
            }
            let transport = client(port: port)
            defer { Task { await transport.close() } }
            #expect(try await Echo.Client(transport).echoBinary(payload: payload) == payload)
        }
    }

    /// A client that pipelines calls for a large value and reads nothing for a while (a small
    /// receive buffer): the server holds the replies it cannot send unencoded and stops reading;
    /// when the client reads, every reply arrives whole and in order, then the close after FIN.
    @Test(arguments: ServerKind.allCases) func pipelinedLargeRepliesThatWaitForTheReaderArriveInOrder(_ kind: ServerKind) async throws {
        try await withServer(kind, router: exampleRouter()) { (port, _) async throws in
            let value = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13) }
            let setup = try KernelSocket(port: port)
            try setup.send(frame(callBytes("put", KV.PutArgs(key: "big", value: value), sequenceID: 1)))
            let stored = try parseReply(try setup.receiveFrame())
            #expect(stored.exception == nil)
            setup.reset()

            let socket = try KernelSocket(port: port, receiveBuffer: 4096)
            let calls = 24
            for sequenceID in 0..<Int32(calls) {
                try socket.send(frame(callBytes("get", KV.GetArgs(key: "big"), sequenceID: sequenceID)))
            }
            try await Task.sleep(for: .milliseconds(200))
            shutdown(socket.fd, Int32(SHUT_WR))
            for sequenceID in 0..<Int32(calls) {
                let frame: [UInt8]
                do { frame = try socket.receiveFrame() } catch { Issue.record("reply \(sequenceID): \(error)"); throw error }
                let reply = try parseReply(frame)
                #expect(reply.sequenceID == sequenceID)
                #expect(reply.body.count > value.count)
            }
            var byte: UInt8 = 0
            #expect(recv(socket.fd, &byte, 1, 0) == 0, "the server closes after the last owed reply")
            socket.reset()
        }
    }
}

/// An `echo` call whose string argument has a negative length.
func badArguments(sequenceID: Int32) -> [UInt8] {
    var bytes = callBytes("echo", EmptyStruct(), sequenceID: sequenceID)
    bytes.removeLast()  // the stop byte
    return bytes + [11, 0, 1, 0xFF, 0xFF, 0xFF, 0xFB, 0]
}

/// A blocking kernel TCP socket to 127.0.0.1, for tests that need the kernel as the peer.
struct KernelSocket {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let fd: Int32

    /// - Parameter receiveBuffer: SO_RCVBUF, to make a client that reads nothing stall the server sooner.
    init(port: Int, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw Failure(description: "connect: errno \(errno)")
        }
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure(description: "send: errno \(errno)") }
            offset += sent
        }
    }

    @discardableResult
    func receive(exactly count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let got = bytes[offset...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard got > 0 else { throw Failure(description: "recv: \(got == 0 ? "end of stream" : "errno \(errno)") after \(offset) bytes") }
            offset += got
        }
        return bytes
    }

    /// One framed message, without its frame header.
    func receiveFrame() throws -> [UInt8] {
        let header = try receive(exactly: 4)
        let length = Int(UInt32(header[0]) << 24 | UInt32(header[1]) << 16 | UInt32(header[2]) << 8 | UInt32(header[3]))
        return try receive(exactly: length)
    }

    /// Closes with SO_LINGER 0: the kernel sends RST and drops what is unsent.
    func reset() {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        close(fd)
    }
}
