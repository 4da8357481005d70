import ApusWire
import ApusXSK
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// `apus xdp`: the AF_XDP data path's own tools.
struct XDP: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "AF_XDP tools: a UDP reflector on one queue, and the XDP program's counters.",
        subcommands: [Reflect.self, Stats.self]
    )

    /// `apus xdp reflect`: sends every UDP datagram for the owned address back
    /// to its sender, from user space through an AF_XDP socket (frames are
    /// reflected in place: the RX frame becomes the TX frame, no copy).
    struct Reflect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reflect UDP datagrams sent to the owned address back to their sender (AF_XDP, one queue).",
            discussion: "Needs the XDP program loaded on INTERFACE (scripts/xdp-load.sh, or scripts/testbed.sh up) and root.")

        @Option(help: "Interface the XDP program is loaded on.")
        var interface: String
        @Option(help: "RX queue to serve.")
        var queue: UInt32 = 0
        @Option(help: "IPv4 address to claim in the program's owned_ipv4 map.")
        var address: String
        @Option(name: [.customLong("udp-port"), .customLong("port")], help: "Only reflect datagrams to this UDP port (0: any).")
        var port: UInt16 = 0
        @Option(help: "Stop after this many seconds.")
        var duration: Double = 10
        @Option(help: "Stop after reflecting this many datagrams (0: no limit).")
        var count = 0
        @Option(help: "UMEM frames.")
        var frames: UInt32 = 4096

        func run() throws {
            func fail(_ error: XSKError) -> ExitCode {
                Console.error("apus xdp reflect: \(error)")
                return ExitCode(1)
            }
            let maps: XDPProgramMaps
            do { maps = try XDPProgramMaps(interface: interface) } catch { throw fail(error) }
            var configuration = XSKSocket.Configuration()
            configuration.frameCount = frames
            var socket: XSKSocket
            do { socket = try XSKSocket(interface: interface, queue: queue, configuration: configuration) } catch { throw fail(error) }
            do {
                // Register before claiming: claimed traffic with no socket would be passed to the kernel.
                try maps.register(socketFD: socket.fd, queue: queue)
                try maps.claim(ipv4: address)
            } catch { throw fail(error) }
            defer {
                maps.release(ipv4: address)
                maps.unregister(queue: queue)
            }
            guard let owned = IPv4Address(address), let mac = Self.macAddress(of: interface) else {
                Console.error("apus xdp reflect: cannot read the MAC address of \(interface) (/sys/class/net/\(interface)/address)")
                throw ExitCode(1)
            }
            Console.out("apus xdp reflect: serving \(address) udp port \(port == 0 ? "any" : String(port)) on \(interface) queue \(queue) (copy mode)")
            var reflector = UDPReflector(port: port, address: owned, mac: mac)
            let deadline = ContinuousClock.now + .nanoseconds(Int64(duration * 1e9))
            socket.refill(maximum: socket.fill.memory.size)
            while ContinuousClock.now < deadline && (count == 0 || reflector.reflected < count) {
                if reflector.step(&socket) == 0 { socket.waitForPackets(milliseconds: 10) }
            }
            // Let outstanding sends complete so frame accounting is exact.
            for _ in 0..<100 where socket.tx.outstanding > 0 {
                socket.kickTransmit()
                socket.reapCompletions()
                usleep(1000)
            }
            socket.reapCompletions(maximum: .max)
            let kernel = try? socket.statistics()
            let inFill = socket.fill.outstanding
            Console.out("apus xdp reflect: received=\(reflector.received) reflected=\(reflector.reflected) arp_replies=\(reflector.arpReplies) dropped=\(reflector.dropped)"
                        + " rx_dropped=\(kernel?.rx_dropped ?? 0) rx_ring_full=\(kernel?.rx_ring_full ?? 0)"
                        + " frames_free=\(socket.umem.freeCount) frames_in_fill=\(inFill) frames_in_tx=\(socket.tx.outstanding)"
                        + " frames_total=\(socket.umem.frameCount)")
        }
    }

    /// `apus xdp stats`: the program's per-CPU counters, summed.
    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the XDP program's counters for an interface.")

        @Option(help: "Interface the XDP program is loaded on.")
        var interface: String

        func run() throws {
            do {
                let maps = try XDPProgramMaps(interface: interface)
                let values = try maps.counters()
                Console.out(zip(XDPProgramMaps.counterNames, values).map { "\($0)=\($1)" }.joined(separator: " "))
            } catch {
                Console.error("apus xdp stats: \(error)")
                throw ExitCode(1)
            }
        }
    }
}

extension XDP.Reflect {
    /// The interface's MAC, from the sysfs of the network namespace we run in.
    static func macAddress(of interface: String) -> MACAddress? {
        guard let file = fopen("/sys/class/net/\(interface)/address", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 64)
        guard fgets(&line, 64, file) != nil else { return nil }
        let text = String(decoding: line.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return MACAddress(text)
    }
}

/// The reflector's per-batch work: completions back to the pool, RX frames
/// turned around in place onto the TX ring, the fill ring topped up.
struct UDPReflector {
    let port: UInt16
    let address: IPv4Address
    let mac: MACAddress
    var received = 0
    var reflected = 0
    var arpReplies = 0
    var dropped = 0

    /// One pass; returns the packets handled.
    mutating func step(_ socket: inout XSKSocket) -> Int {
        socket.reapCompletions()
        let (count, index) = socket.rx.peek(64)
        var sent: UInt32 = 0
        for offset in 0..<count {
            let descriptor = socket.rx.entry(index &+ offset)
            received += 1
            let packet = socket.umem.packet(at: descriptor.address, length: Int(descriptor.length))
            guard let length = turnAround(packet), let slot = socket.tx.reserve(1) else {
                dropped += 1
                socket.umem.free(descriptor.address)
                continue
            }
            socket.tx.slot(slot).pointee = XDPDescriptor(address: descriptor.address, length: UInt32(length))
            sent += 1
            if length == EthernetFrame.headerLength + ARPPacket.length { arpReplies += 1 } else { reflected += 1 }
        }
        if count > 0 { socket.rx.release() }
        if sent > 0 { socket.tx.submit() }
        // Copy mode sends at most 32 descriptors per kick: kick while anything is outstanding.
        if socket.tx.outstanding > 0 { socket.kickTransmit() }
        socket.refill()
        if socket.fill.needsWakeup { socket.kickReceive() }
        return Int(count)
    }

    /// Swaps addresses and ports in place and recomputes the UDP checksum
    /// (a veth sender may leave it partial); returns the reply's length, or
    /// nil for anything that is not a UDP datagram for `port`.
    func turnAround(_ packet: UnsafeMutableRawBufferPointer) -> Int? {
        do throws(WireError) {
            let frame = try EthernetFrame(UnsafeRawBufferPointer(packet))
            if frame.etherType == .arp { return try answerARP(frame, packet) }
            guard frame.etherType == .ipv4 else { return nil }
            let ip = try IPv4Packet(frame.payload)
            guard ip.protocol == .udp, !ip.isFragment, ip.headerLength == IPv4Packet.minimumHeaderLength else { return nil }
            try ip.verifyChecksum()
            let udp = try UDPDatagram(ip.payload)
            guard port == 0 || udp.destinationPort == port else { return nil }
            var ethernet = EthernetRepr(parsing: frame)
            swap(&ethernet.source, &ethernet.destination)
            var ipRepr = try IPv4Repr(parsing: ip)
            swap(&ipRepr.source, &ipRepr.destination)
            var udpRepr = UDPRepr(parsing: udp)
            swap(&udpRepr.sourcePort, &udpRepr.destinationPort)
            let ipStart = frame.headerLength
            let udpStart = ipStart + IPv4Packet.minimumHeaderLength
            try ethernet.emit(into: UnsafeMutableRawBufferPointer(rebasing: packet[..<ipStart]))
            try ipRepr.emit(into: UnsafeMutableRawBufferPointer(rebasing: packet[ipStart...]))
            try udpRepr.emit(into: UnsafeMutableRawBufferPointer(rebasing: packet[udpStart..<(udpStart + udpRepr.bufferLength)]),
                             checksum: .compute(source: ipRepr.source, destination: ipRepr.destination))
            return udpStart + udpRepr.bufferLength
        } catch {
            return nil
        }
    }

    /// Answers an ARP request for the owned address in place (RFC 826);
    /// the kernel has no such address, so nobody else will.
    func answerARP(_ frame: EthernetFrame, _ packet: UnsafeMutableRawBufferPointer) throws(WireError) -> Int? {
        let arp = try ARPPacket(frame.payload)
        guard arp.operation == .request, arp.targetProtocolAddress == address else { return nil }
        let reply = ARPRepr(operation: .reply, senderHardwareAddress: mac, senderProtocolAddress: address,
                            targetHardwareAddress: arp.senderHardwareAddress, targetProtocolAddress: arp.senderProtocolAddress)
        let ethernet = EthernetRepr(destination: arp.senderHardwareAddress, source: mac, etherType: .arp)
        let start = EthernetFrame.headerLength
        try ethernet.emit(into: UnsafeMutableRawBufferPointer(rebasing: packet[..<start]))
        try reply.emit(into: UnsafeMutableRawBufferPointer(rebasing: packet[start..<(start + ARPPacket.length)]))
        return start + ARPPacket.length
    }
}
