import ApusExamples
import ApusNet
import ApusRPC
import ApusTesting
import ApusThrift
import ApusWire
import Testing
@testable import ApusTransportXDP

/// Replies a peer does not read: a connection holds its send buffer and at most one encoded
/// reply, however many large replies it owes, and still delivers every one of them in order.
@Suite struct HeldOutputTests {
    static let serverIP = IPv4Address(10, 0, 0, 1), clientIP = IPv4Address(10, 0, 0, 2)
    static let serverMAC = MACAddress(0x02, 0, 0, 0, 0, 1), clientMAC = MACAddress(0x02, 0, 0, 0, 0, 2)

    static func stack(_ address: IPv4Address, _ mac: MACAddress) -> NetStack {
        var configuration = NetStackConfiguration(interface: InterfaceConfiguration(
            macAddress: mac, addresses: [address], subnet: IPv4Subnet(address: address, prefixLength: 24)))
        configuration.tcp.sendBufferSize = 16 * 1024
        configuration.tcp.receiveBufferSize = 16 * 1024
        return NetStack(configuration: configuration)
    }

    /// Moves every frame each stack has to send to the other, until both are quiet.
    static func pump(_ a: inout NetStack, _ b: inout NetStack, at now: NetInstant) {
        for _ in 0..<10_000 {
            var fromA = FrameCollector(), fromB = FrameCollector()
            a.poll(at: now, transmitter: &fromA)
            b.poll(at: now, transmitter: &fromB)
            if fromA.frames.isEmpty && fromB.frames.isEmpty && a.nextDeadline > now && b.nextDeadline > now { return }
            for frame in fromA.frames { frame.withUnsafeBytes { b.receive($0, at: now) } }
            for frame in fromB.frames { frame.withUnsafeBytes { a.receive($0, at: now) } }
        }
    }

    @Test func manyLargeRepliesHoldOneEncodedReplyAtATime() throws {
        var server = Self.stack(Self.serverIP, Self.serverMAC)
        var client = Self.stack(Self.clientIP, Self.clientMAC)
        let now = NetInstant.seconds(10)
        try server.listen(on: 9090)
        let clientHandle = try client.connect(to: Self.serverIP, port: 9090, at: now)
        Self.pump(&server, &client, at: now)
        var serverHandle: TCPHandle?
        while let event = server.nextEvent() { if case .accepted(let handle, _) = event { serverHandle = handle } }
        let handle = try #require(serverHandle)

        let count = 8, valueSize = 100_000
        var output = HeldOutput()
        var expected: [UInt8] = []
        for sequenceID in 0..<Int32(count) {
            let payload = [UInt8](repeating: UInt8(sequenceID), count: valueSize)
            let message = OutgoingMessage(name: "echoBinary", type: .reply, sequenceID: sequenceID,
                                          body: Echo.EchoBinaryArgs(payload: payload))
            let wire = try WireMessage(message, protocol: .binary, framing: .framed)
            var bytes = [UInt8](repeating: 0, count: wire.size)
            #expect(bytes.withUnsafeMutableBytes { wire.write(into: $0) } == wire.size)
            expected += bytes
            let written = output.write(wire, to: handle, stack: &server, at: now)
            #expect(written == .held)
            let encoded = output.encodedBytes
            #expect(encoded <= wire.size, "more than one reply encoded while the peer reads nothing")
        }

        // The client reads slowly; the server refills its send buffer as it is acknowledged.
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<100_000 where received.count < expected.count {
            Self.pump(&server, &client, at: now)
            let read = try chunk.withUnsafeMutableBytes { try client.read(from: clientHandle, into: $0, at: now) }
            received += chunk[..<read]
            while let event = server.nextEvent() {
                guard case .writable = event else { continue }
                let ok = output.writeHeld(to: handle, stack: &server, at: now)
                #expect(ok)
            }
            let encoded = output.encodedBytes
            #expect(encoded <= valueSize + 64)
        }
        #expect(received.count == expected.count)
        #expect(received == expected, "replies arrive whole and in order")
        let blocked = output.isBlocked
        #expect(!blocked)
    }
}
