import ApusNet
import ApusWire
import ApusXSK
#if canImport(Glibc)
import Glibc
#endif

/// Where an Apus instance lives on the wire: the interface with Apus's XDP
/// program, the queues it takes, the address it owns, its sockets.
public struct XDPPlacement: Sendable {
    public var interface: String
    public var queues: [UInt32]
    /// CPU per queue (nil: the i-th CPU this process may run on).
    public var cpus: [Int]?
    /// The IPv4 address Apus owns (claimed in the program's owned_ipv4 map; configured in no kernel).
    public var address: String
    public var prefixLength: Int
    public var socket: XSKSocket.Configuration
    public var tcp: TCPConfiguration
    /// Connections each queue's stack holds at most (`NetStackConfiguration.maximumConnections`).
    public var maximumConnections = 65536
    /// Buffer bytes each queue's stack may hold (`NetStackConfiguration.maximumBufferMemory`).
    public var maximumBufferMemory = 1 << 30
    /// The link delivers frames with partial checksums (a veth peer with checksum offload on):
    /// accept a pseudo-header-only checksum (`NetStackConfiguration.acceptPartialChecksums`).
    public var acceptPartialChecksums = false

    public init(interface: String, queues: [UInt32] = [0], cpus: [Int]? = nil, address: String, prefixLength: Int = 24,
                socket: XSKSocket.Configuration = XSKSocket.Configuration(), tcp: TCPConfiguration = TCPConfiguration()) {
        self.interface = interface
        self.queues = queues
        self.cpus = cpus
        self.address = address
        self.prefixLength = prefixLength
        self.socket = socket
        self.tcp = tcp
    }

    /// The MAC address of `interface` (from sysfs), nil when there is no such interface.
    public static func macAddress(of interface: String) -> MACAddress? {
        guard let file = fopen("/sys/class/net/\(interface)/address", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 64)
        guard fgets(&line, 64, file) != nil else { return nil }
        let text = String(decoding: line.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return MACAddress(text)
    }

    /// How an XDP program is attached to `interface`: "native", "skb", "hw", "multi", or nil when none is.
    public static func attachMode(of interface: String) -> String? { XDPProgramMaps.attachMode(of: interface) }

    /// Why XDP cannot be used here, or nil when it can (root, the interface, the pinned program).
    public static func unavailableReason(interface: String) -> String? {
        if geteuid() != 0 { return "not root (AF_XDP and the program's maps need root, or CAP_NET_ADMIN + CAP_BPF)" }
        if access("/sys/class/net/\(interface)", F_OK) != 0 { return "no interface \(interface) in this network namespace" }
        if access("/sys/fs/bpf/apus/\(interface)", F_OK) != 0 {
            return "the Apus XDP program is not loaded on \(interface) (scripts/xdp-load.sh \(interface), or scripts/testbed.sh up)"
        }
        return nil
    }
}

/// A placement made real: maps open, one registered socket per queue, engines
/// on pinned threads. The address is claimed last, so no packet is steered
/// before every queue is ready, and released first on the way out.
final class XDPQueueSet: @unchecked Sendable {
    let placement: XDPPlacement
    let maps: XDPProgramMaps
    let engines: [QueueEngine]
    private var threads: [PinnedThread] = []
    private var claimed = false

    /// Opens the maps and sockets, and starts one engine per queue, built by `makeEngine`.
    init(_ placement: XDPPlacement,
         makeEngine: (_ queue: UInt32, _ network: NetStackConfiguration) throws(XSKError) -> QueueEngine) throws(XSKError) {
        self.placement = placement
        guard let owned = IPv4Address(placement.address) else {
            throw XSKError("'\(placement.address)' is not an IPv4 address", errno: 0, hint: "write it as a dotted quad, e.g. 10.10.0.10")
        }
        guard (1...32).contains(placement.prefixLength) else {
            throw XSKError("prefix length \(placement.prefixLength)", errno: 0, hint: "give 1...32")
        }
        guard !placement.queues.isEmpty else { throw XSKError("no queues given", errno: 0, hint: "e.g. --queues 0") }
        if geteuid() != 0 {
            throw XSKError("AF_XDP on \(placement.interface)", errno: EPERM)
        }
        guard access("/sys/class/net/\(placement.interface)", F_OK) == 0 else {
            throw XSKError("interface \(placement.interface)", errno: ENODEV,
                           hint: "no such interface in this network namespace (see `ip link`)")
        }
        let maps = try XDPProgramMaps(interface: placement.interface)
        self.maps = maps
        guard let mac = XDPPlacement.macAddress(of: placement.interface) else {
            throw XSKError("read the MAC address of \(placement.interface) (/sys/class/net/\(placement.interface)/address)",
                           errno: ENODEV)
        }
        var network = NetStackConfiguration(interface: InterfaceConfiguration(
            macAddress: mac, addresses: [owned], subnet: IPv4Subnet(address: owned, prefixLength: placement.prefixLength)))
        network.tcp = placement.tcp
        network.maximumConnections = placement.maximumConnections
        network.maximumBufferMemory = placement.maximumBufferMemory
        network.acceptPartialChecksums = placement.acceptPartialChecksums

        // Every socket is made and registered before anything runs: a bad queue fails it all.
        var boxes: [XSKSocketBox] = []
        func unregisterAll() { for box in boxes { maps.unregister(queue: box.queue) } }
        for queue in placement.queues {
            do throws(XSKError) {
                let socket = try XSKSocket(interface: placement.interface, queue: queue, configuration: placement.socket)
                try maps.register(socketFD: socket.fd, queue: queue)
                boxes.append(XSKSocketBox(socket))
            } catch {
                unregisterAll()
                throw error
            }
        }
        var engines: [QueueEngine] = []
        do throws(XSKError) {
            for queue in placement.queues { engines.append(try makeEngine(queue, network)) }
        } catch {
            unregisterAll()
            throw error
        }
        self.engines = engines
        let allowed = PinnedThread.allowedCPUs()
        for (index, (engine, box)) in zip(engines, boxes).enumerated() {
            let cpu = placement.cpus.map { $0[index % $0.count] } ?? allowed[index % allowed.count]
            engine.cpu = cpu
            do throws(XSKError) {
                threads.append(try PinnedThread(name: "apus-q\(engine.queue)", cpu: cpu) { engine.run(socket: box.take()) })
            } catch {
                for started in engines.prefix(index) { started.stop() }
                for thread in threads { thread.join() }
                unregisterAll()
                throw error
            }
        }
    }

    /// Waits for every engine to listen or be ready to connect, then claims the address.
    func start() async throws(XSKError) {
        for engine in engines { await engine.started.wait() }
        try maps.claim(ipv4: placement.address)
        claimed = true
    }

    func stopAccepting() {
        for engine in engines { engine.stopAccepting() }
    }

    /// Closes connections gracefully, stops the engines, releases the address, unregisters the sockets.
    func close() async {
        for engine in engines { engine.closeAll() }
        for engine in engines { await engine.waitUntilFinished() }
        for thread in threads { thread.join() }
        threads = []
        if claimed {
            maps.release(ipv4: placement.address)
            claimed = false
        }
        for queue in placement.queues { maps.unregister(queue: queue) }
    }
}
