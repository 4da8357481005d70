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
    /// The IPv4 address Apus serves on: one of its own (claimed in the program's owned_ipv4
    /// map, configured in no kernel) or, with port steering, the kernel's own address on the
    /// interface, of which Apus takes only its TCP port.
    public var address: String
    /// The on-link prefix; nil: the kernel's subnet on the interface that holds `address`.
    public var prefixLength: Int?
    /// The router for off-link destinations (dotted quad); nil: the kernel's default route's
    /// gateway through the interface, if it has one. Passive connections never need it: they
    /// answer the link-layer source of their SYN.
    public var gateway: String?
    /// The largest IPv4 packet; nil: the interface's MTU.
    public var mtu: Int?
    /// What the XDP program steers to Apus; nil: `.ports` when the kernel has `address` on the
    /// interface, else `.address`.
    public var steering: Steering?
    /// The 802.1Q VLAN to serve on (1...4094), tagged on `interface`; nil: the untagged link.
    /// Prefix, MTU and gateway then come from the kernel's VLAN interface on it, if any.
    public var vlan: UInt16?
    public var socket: XSKSocket.Configuration
    public var tcp: TCPConfiguration
    /// Connections each queue's stack holds at most (`NetStackConfiguration.maximumConnections`).
    public var maximumConnections = 65536
    /// Buffer bytes each queue's stack may hold (`NetStackConfiguration.maximumBufferMemory`).
    public var maximumBufferMemory = 1 << 30
    /// The link delivers frames with partial checksums (a veth peer with checksum offload on):
    /// accept a pseudo-header-only checksum (`NetStackConfiguration.acceptPartialChecksums`).
    public var acceptPartialChecksums = false

    /// How the XDP program picks Apus's traffic out of the interface's.
    public enum Steering: String, Sendable, CaseIterable {
        /// Everything for an address of Apus's own (and its ARP): the kernel never has it.
        case address
        /// Only the served TCP port of the kernel's own address: the kernel keeps ARP, ICMP and
        /// every other port (the program's port mode).
        case ports
    }

    public init(interface: String, queues: [UInt32] = [0], cpus: [Int]? = nil, address: String, prefixLength: Int? = nil,
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

    /// The RX queues of `interface` (the rx-N entries in sysfs), nil when it cannot be read.
    /// RSS spreads flows over all of them, so a server must take every one.
    public static func receiveQueueCount(of interface: String) -> Int? {
        guard let directory = opendir("/sys/class/net/\(interface)/queues") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix("rx-") { count += 1 }
        }
        return count
    }

    /// How an XDP program is attached to `interface`: "native", "skb", "hw", "multi", or nil when none is.
    public static func attachMode(of interface: String) -> String? { XDPProgramMaps.attachMode(of: interface) }

    /// Why XDP cannot be used here, or nil when it can (capabilities, the interface, the pinned program).
    public static func unavailableReason(interface: String) -> String? {
        if let missing = Capabilities.missingForXDP() { return "missing \(missing)" }
        if access("/sys/class/net/\(interface)", F_OK) != 0 { return "no interface \(interface) in this network namespace" }
        if access("/sys/fs/bpf/apus/\(interface)", F_OK) != 0 {
            return "the Apus XDP program is not loaded on \(interface): load it with " + XDPProgramMaps.loadHint(interface)
        }
        return nil
    }
}

extension XDPPlacement {
    /// The stack's view of the link, from the flags and what the kernel has on the interface:
    /// address, prefix, MTU, gateway, and how the program must steer. Refuses what would take
    /// traffic that is not Apus's: the kernel's address with address steering (ARP, ICMP and
    /// every port of the host), or an address another host on the link answers for.
    public func network(macAddress: MACAddress, kernel: KernelInterface) throws(XSKError) -> (InterfaceConfiguration, Steering) {
        guard let owned = IPv4Address(address) else {
            throw XSKError("'\(address)' is not an IPv4 address", errno: EINVAL, hint: "write it as a dotted quad, e.g. 10.10.0.10")
        }
        let kernelHasIt = kernel.owns(owned)
        let steering = self.steering ?? (kernelHasIt ? .ports : .address)
        switch steering {
        case .ports where !kernelHasIt:
            throw XSKError("steer ports of \(owned) on \(interface)", errno: EADDRNOTAVAIL,
                           hint: "port steering serves an address the kernel has on \(interface) (`ip -4 addr show \(interface)`"
                               + " lists \(kernel.addresses.map { "\($0.address)" }.joined(separator: ", ")));"
                               + " or give Apus an address of its own with --steer address")
        case .address where kernelHasIt:
            throw XSKError("steer all of \(owned) on \(interface)", errno: EADDRINUSE,
                           hint: "\(owned) is the kernel's own address on \(interface): Apus would take its ARP, ICMP and every"
                               + " port; serve one port of it with --steer ports, or give Apus a free address")
        case .address:
            if let (_, mac) = kernel.neighbours.first(where: { $0.0 == owned }) {
                throw XSKError("claim \(owned) on \(interface)", errno: EADDRINUSE,
                               hint: "another host (\(mac)) answers ARP for \(owned) (`ip neigh show dev \(interface)`); choose a free address")
            }
        default:
            break
        }
        let prefix: Int
        if let prefixLength {
            guard (1...32).contains(prefixLength) else {
                throw XSKError("prefix length \(prefixLength)", errno: EINVAL, hint: "give 1...32")
            }
            prefix = prefixLength
        } else if let subnet = kernel.subnet(containing: owned) {
            prefix = subnet.prefixLength
        } else {
            throw XSKError("find the subnet of \(owned) on \(interface)", errno: EINVAL,
                           hint: "no address of the kernel's on \(interface) shares a subnet with it: give --prefix-length")
        }
        let subnet = IPv4Subnet(address: owned, prefixLength: prefix)
        var router: IPv4Address?
        if let gateway {
            guard let parsed = IPv4Address(gateway) else {
                throw XSKError("'\(gateway)' is not an IPv4 address", errno: EINVAL, hint: "write the gateway as a dotted quad")
            }
            router = parsed
        } else {
            router = kernel.gateway
        }
        if let router, !subnet.contains(router) {
            throw XSKError("use gateway \(router)", errno: ENETUNREACH, hint: "it is not on \(subnet), the on-link subnet of \(owned)")
        }
        // One packet per 4 KiB UMEM frame: less XDP's 256 bytes of headroom, Ethernet and a VLAN
        // tag. A larger link MTU (jumbo frames) is used up to this; the MSS tells peers.
        let largest = 4096 - 256 - 18
        if let mtu, !(576...largest).contains(mtu) {
            throw XSKError("MTU \(mtu)", errno: EINVAL, hint: "give 576...\(largest) (one packet per 4 KiB AF_XDP frame)")
        }
        let linkMTU = mtu ?? min(kernel.mtu ?? 1500, largest)
        if let vlan, !(1...4094).contains(vlan) {
            throw XSKError("VLAN \(vlan)", errno: EINVAL, hint: "802.1Q VLAN ids are 1...4094")
        }
        return (InterfaceConfiguration(macAddress: macAddress, addresses: [owned], mtu: linkMTU, subnet: subnet, gateway: router,
                                       vlan: vlan), steering)
    }
}

/// A placement made real: maps open, one registered socket per queue, engines
/// on pinned threads. The address is claimed last, so no packet is steered
/// before every queue is ready, and released first on the way out.
final class XDPQueueSet: @unchecked Sendable {
    let placement: XDPPlacement
    let maps: XDPProgramMaps
    let engines: [QueueEngine]
    let steering: XDPPlacement.Steering
    /// The link as the stacks see it (address, subnet, MTU, gateway, VLAN).
    let link: InterfaceConfiguration
    private var threads: [PinnedThread] = []
    private var claimed = false
    /// TCP ports claimed in port mode.
    private var claimedPorts: [UInt16] = []
    private var servedVLAN: UInt16?

    /// Opens the maps and sockets, and starts one engine per queue, built by `makeEngine`.
    init(_ placement: XDPPlacement,
         makeEngine: (_ queue: UInt32, _ network: NetStackConfiguration) throws(XSKError) -> QueueEngine) throws(XSKError) {
        self.placement = placement
        guard !placement.queues.isEmpty else { throw XSKError("no queues given", errno: 0, hint: "e.g. --queues 0") }
        if let missing = Capabilities.missingForXDP() {
            throw XSKError("AF_XDP on \(placement.interface): this process lacks \(missing)", errno: EPERM,
                           hint: "run as root, or grant them: setcap cap_net_admin,cap_net_raw,cap_bpf,cap_ipc_lock+ep BINARY,"
                               + " or AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW CAP_BPF CAP_IPC_LOCK in the systemd unit"
                               + " (CAP_IPC_LOCK, or LimitMEMLOCK=, for the UMEM)")
        }
        guard access("/sys/class/net/\(placement.interface)", F_OK) == 0 else {
            throw XSKError("interface \(placement.interface)", errno: ENODEV,
                           hint: "no such interface in this network namespace (see `ip link`)")
        }
        let umemBytes = Int(placement.socket.frameCount) * Int(placement.socket.frameSize) * placement.queues.count
        if let shortfall = Capabilities.lockedMemoryShortfall(bytes: umemBytes) {
            throw XSKError("register \(placement.queues.count) UMEM(s) on \(placement.interface)", errno: ENOBUFS, hint: shortfall)
        }
        guard let mac = XDPPlacement.macAddress(of: placement.interface) else {
            throw XSKError("read the MAC address of \(placement.interface) (/sys/class/net/\(placement.interface)/address)",
                           errno: ENODEV)
        }
        let kernelInterface = placement.vlan.flatMap { KernelInterface.vlanInterface(of: placement.interface, identifier: $0) }
            ?? placement.interface
        let (interface, steering) = try placement.network(macAddress: mac, kernel: KernelInterface(name: kernelInterface))
        self.steering = steering
        self.link = interface
        let maps = try XDPProgramMaps(interface: placement.interface)
        self.maps = maps
        var network = NetStackConfiguration(interface: interface)
        network.tcp = placement.tcp
        // One neighbour table for all the queues: an ARP answer hashed to one queue serves them all.
        let neighbours = SharedNeighbours(lifetime: network.arp.entryLifetime, capacity: network.arp.maximumEntries)
        if steering == .ports {
            // ARP for the kernel's address goes to the kernel, not to us: start from what it knows.
            let now = MonotonicClock.now()
            for (address, neighbourMAC) in KernelInterface(name: kernelInterface).neighbours {
                neighbours.publish(address, at: neighbourMAC, now: now)
            }
        }
        network.sharedNeighbours = neighbours
        network.maximumConnections = placement.maximumConnections
        network.maximumBufferMemory = placement.maximumBufferMemory
        network.acceptPartialChecksums = placement.acceptPartialChecksums
        network.receiveWindowBudget = NetStackConfiguration.receiveWindowBudget(
            rxRingEntries: placement.socket.ringSize, mtu: interface.mtu)

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

    /// Waits for every engine to listen or be ready to connect, then claims the address (or,
    /// with port steering, the TCP `ports` of it).
    func start(ports: [UInt16] = []) async throws(XSKError) {
        for engine in engines { await engine.started.wait() }
        if let vlan = placement.vlan {
            try maps.serve(vlan: vlan)
            servedVLAN = vlan
        }
        switch steering {
        case .address:
            try maps.claim(ipv4: placement.address)
            claimed = true
        case .ports:
            guard !ports.isEmpty else {
                throw XSKError("steer ports of \(placement.address)", errno: EINVAL,
                               hint: "port steering serves a port of the kernel's address; an XDP client needs an address of its own")
            }
            for port in ports {
                try maps.claim(tcpPort: port, of: placement.address)
                claimedPorts.append(port)
            }
        }
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
        for port in claimedPorts { maps.release(tcpPort: port, of: placement.address) }
        claimedPorts = []
        if let vlan = servedVLAN {
            maps.release(vlan: vlan)
            servedVLAN = nil
        }
        for queue in placement.queues { maps.unregister(queue: queue) }
    }
}
