import CXDP
#if canImport(Glibc)
import Glibc
#endif

/// The maps `scripts/xdp-load.sh IFACE` pinned under /sys/fs/bpf/apus/IFACE:
/// where a server registers its sockets and claims its addresses.
/// The descriptors never change after init and the bpf() map calls are
/// atomic per element, so one instance serves every queue's thread.
public final class XDPProgramMaps: @unchecked Sendable {
    public let interface: String
    public let directory: String
    let xsks: Int32
    let ownedIPv4: Int32
    let ownedPorts: Int32
    let configMap: Int32
    let stats: Int32
    let vlans: Int32?

    /// Opens the pinned maps; a clear error when the program is not loaded.
    public init(interface: String, root: String = "/sys/fs/bpf/apus") throws(XSKError) {
        self.interface = interface
        self.directory = "\(root)/\(interface)"
        func open(_ name: String) throws(XSKError) -> Int32 {
            let fd = bpf_obj_get("\(root)/\(interface)/\(name)")
            guard fd >= 0 else {
                let code = errno
                throw XSKError("open pinned map \(root)/\(interface)/\(name)", errno: code,
                               hint: code == ENOENT
                                   ? "the Apus XDP program is not loaded on \(interface): load it with " + Self.loadHint(interface)
                                   : code == EACCES && geteuid() != 0
                                   ? "the pinned maps are not this user's: give \(root)/\(interface) and its files to the service's"
                                       + " user or group (chown -R), as its loader should, and let it pass through \(root)"
                                   : XSKError.defaultHint(code))
            }
            return fd
        }
        let xsks = try open(APUS_MAP_XSKS)
        let ownedIPv4: Int32
        do { ownedIPv4 = try open(APUS_MAP_OWNED_IPV4) } catch {
            close(xsks)
            throw error
        }
        var opened = [xsks, ownedIPv4]
        func openMore(_ name: String) throws(XSKError) -> Int32 {
            do {
                let fd = try open(name)
                opened.append(fd)
                return fd
            } catch {
                for fd in opened { close(fd) }
                throw error
            }
        }
        let ownedPorts = try openMore(APUS_MAP_OWNED_PORTS)
        let configMap = try openMore(APUS_MAP_CONFIG)
        let stats = try openMore(APUS_MAP_STATS)
        // Older loads of the program have no `vlans` map: fine until a VLAN is asked for.
        let vlans = bpf_obj_get("\(root)/\(interface)/\(APUS_MAP_VLANS)")
        self.vlans = vlans >= 0 ? vlans : nil
        self.xsks = xsks
        self.ownedIPv4 = ownedIPv4
        self.ownedPorts = ownedPorts
        self.configMap = configMap
        self.stats = stats
    }

    deinit {
        for fd in [xsks, ownedIPv4, ownedPorts, configMap, stats, vlans ?? -1] where fd >= 0 { close(fd) }
    }

    /// Slots in the `xsks` map: one per RX queue the program can steer.
    public var queueCapacity: UInt32? {
        var info = bpf_map_info()
        var length = UInt32(MemoryLayout<bpf_map_info>.size)
        guard bpf_obj_get_info_by_fd(xsks, &info, &length) == 0 else { return nil }
        return info.max_entries
    }

    /// Steers `queue`'s owned traffic to `socket`.
    public func register(socketFD: Int32, queue: UInt32) throws(XSKError) {
        if let capacity = queueCapacity, queue >= capacity {
            throw XSKError("register queue \(queue) in \(directory)/xsks", errno: ERANGE,
                           hint: "queue \(queue) is out of range: the program's xsks map has \(capacity) slots, one per RX queue")
        }
        var key = queue
        var value = UInt32(bitPattern: socketFD)
        guard bpf_map_update_elem(xsks, &key, &value, UInt64(BPF_ANY)) == 0 else {
            throw XSKError("register the AF_XDP socket for queue \(queue) in \(directory)/xsks", errno: errno)
        }
    }

    public func unregister(queue: UInt32) {
        var key = queue
        _ = bpf_map_delete_elem(xsks, &key)
    }

    /// Claims an IPv4 address (dotted quad): its packets and ARP now come to the sockets.
    /// Register sockets first, or the claimed traffic has nowhere to go.
    public func claim(ipv4 address: String) throws(XSKError) {
        var parsed = in_addr()
        guard inet_pton(AF_INET, address, &parsed) == 1 else {
            throw XSKError("parse IPv4 address '\(address)'", errno: EINVAL, hint: "write it as a dotted quad, e.g. 10.10.0.10")
        }
        var key = parsed.s_addr
        var value = UInt8(APUS_OWNED)
        guard bpf_map_update_elem(ownedIPv4, &key, &value, UInt64(BPF_ANY)) == 0 else {
            throw XSKError("claim \(address) in \(directory)/owned_ipv4", errno: errno)
        }
    }

    public func release(ipv4 address: String) {
        var parsed = in_addr()
        guard inet_pton(AF_INET, address, &parsed) == 1 else { return }
        var key = parsed.s_addr
        _ = bpf_map_delete_elem(ownedIPv4, &key)
    }

    /// Port mode: steers TCP `port` of `address` (the kernel's own address) to the sockets,
    /// and turns the program's port mode on. The kernel keeps the address's ARP, ICMP and
    /// every other port. Refused when another process already steers that port.
    public func claim(tcpPort port: UInt16, of address: String) throws(XSKError) {
        var key = try Self.portKey(port, address)
        var value = UInt8(APUS_OWNED)
        guard bpf_map_update_elem(ownedPorts, &key, &value, UInt64(BPF_NOEXIST)) == 0 else {
            let code = errno
            throw XSKError("claim TCP port \(port) of \(address) in \(directory)/owned_ports", errno: code,
                           hint: code == EEXIST ? "another process already serves it through Apus's program (see `apus xdp stats`)"
                                                : XSKError.defaultHint(code))
        }
        var zero: UInt32 = 0
        var config = apus_config(mode: UInt32(APUS_MODE_PORT.rawValue))
        guard bpf_map_update_elem(configMap, &zero, &config, UInt64(BPF_ANY)) == 0 else {
            let code = errno
            _ = bpf_map_delete_elem(ownedPorts, &key)
            throw XSKError("turn on port mode in \(directory)/config", errno: code)
        }
    }

    /// Stops steering TCP `port` of `address`; the program leaves port mode when no port is left.
    public func release(tcpPort port: UInt16, of address: String) {
        guard var key = try? Self.portKey(port, address) else { return }
        _ = bpf_map_delete_elem(ownedPorts, &key)
        var first = apus_port_key()
        if bpf_map_get_next_key(ownedPorts, nil, &first) != 0 {
            var zero: UInt32 = 0
            var config = apus_config(mode: UInt32(APUS_MODE_OWNED_ADDRESS.rawValue))
            _ = bpf_map_update_elem(configMap, &zero, &config, UInt64(BPF_ANY))
        }
    }

    /// Steers 802.1Q frames of VLAN `identifier` by the rules for untagged ones (owned
    /// addresses and ports) instead of leaving them all to the kernel.
    public func serve(vlan identifier: UInt16) throws(XSKError) {
        guard let vlans else {
            throw XSKError("serve VLAN \(identifier): \(directory) has no vlans map", errno: ENOENT,
                           hint: "the loaded XDP program predates VLAN support: reload it with " + Self.loadHint(interface))
        }
        var key = UInt32(identifier)
        var value = UInt8(APUS_OWNED)
        guard identifier < 4095, bpf_map_update_elem(vlans, &key, &value, UInt64(BPF_ANY)) == 0 else {
            throw XSKError("serve VLAN \(identifier) in \(directory)/vlans", errno: identifier < 4095 ? errno : ERANGE,
                           hint: "VLAN ids are 1...4094")
        }
    }

    public func release(vlan identifier: UInt16) {
        guard let vlans else { return }
        var key = UInt32(identifier)
        var value: UInt8 = 0
        _ = bpf_map_update_elem(vlans, &key, &value, UInt64(BPF_ANY))
    }

    /// Whether TCP `port` of `address` is steered (port mode).
    public func isClaimed(tcpPort port: UInt16, of address: String) -> Bool {
        guard var key = try? Self.portKey(port, address) else { return false }
        var value: UInt8 = 0
        return bpf_map_lookup_elem(ownedPorts, &key, &value) == 0
    }

    private static func portKey(_ port: UInt16, _ address: String) throws(XSKError) -> apus_port_key {
        var parsed = in_addr()
        guard inet_pton(AF_INET, address, &parsed) == 1 else {
            throw XSKError("parse IPv4 address '\(address)'", errno: EINVAL, hint: "write it as a dotted quad, e.g. 10.10.0.1")
        }
        return apus_port_key(addr: parsed.s_addr, proto: UInt8(IPPROTO_TCP), pad: 0, port: port.bigEndian)
    }

    /// The program's counters summed over CPUs, by `apus_stat` index
    /// (seen, redirected, passed, redirect errors, malformed, vlan).
    public func counters() throws(XSKError) -> [UInt64] {
        let cpus = Int(libbpf_num_possible_cpus())
        guard cpus > 0 else { throw XSKError("count possible CPUs", errno: -cpus == 0 ? EINVAL : Int32(-cpus)) }
        var totals: [UInt64] = []
        var values = [UInt64](repeating: 0, count: cpus)
        for index in 0..<UInt32(APUS_STAT_COUNT.rawValue) {
            var key = index
            guard bpf_map_lookup_elem(stats, &key, &values) == 0 else {
                throw XSKError("read counter \(index) of \(directory)/stats", errno: errno)
            }
            totals.append(values.reduce(0, &+))
        }
        return totals
    }

    /// What to run to load (or reload) the program on `interface`: the script in the
    /// Apus source tree, which builds bpf/apus_xdp.bpf.c and pins its maps; README's
    /// "Loading the XDP program" gives the same steps for an installed binary.
    public static func loadHint(_ interface: String, mode: String? = nil) -> String {
        "scripts/xdp-load.sh \(interface)\(mode.map { " --mode \($0)" } ?? "") from the Apus source tree"
            + " (README: \"Loading the XDP program\"; scripts/testbed.sh up does it on the testbed)"
    }

    public static let counterNames = ["seen", "redirected", "passed", "redirect_errors", "malformed", "vlan"]
}
