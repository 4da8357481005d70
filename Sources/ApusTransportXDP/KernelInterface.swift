import ApusNet
import ApusWire
#if canImport(Glibc)
import Glibc
#endif

/// What the kernel knows of one interface, read once at start: its IPv4
/// addresses and prefixes, MTU, default gateway and neighbours. Apus serves
/// beside the kernel on the same link, so these are the operator's own
/// settings (`ip addr`, `ip route`, `ip neigh`), not something to configure twice.
///
/// Read from procfs and sysfs (the files `ip` itself summarises): no netlink
/// socket to keep, and each fact has one obvious source.
public struct KernelInterface: Sendable {
    public var name: String
    public var addresses: [IPv4Subnet]
    public var mtu: Int?
    /// The next hop of the kernel's default route through this interface.
    public var gateway: IPv4Address?
    /// Complete entries of the kernel's ARP table on this interface.
    public var neighbours: [(IPv4Address, MACAddress)]

    /// Reads the facts for `name` in this network namespace.
    public init(name: String) {
        self.name = name
        self.addresses = Self.readAddresses(of: name)
        self.mtu = Self.readFile("/sys/class/net/\(name)/mtu").flatMap { Int($0.trimmingWhitespace) }
        self.gateway = Self.readFile("/proc/net/route").flatMap { Self.parseDefaultGateway($0, interface: name) }
        self.neighbours = Self.readFile("/proc/net/arp").map { Self.parseNeighbours($0, interface: name) } ?? []
    }

    public init(name: String, addresses: [IPv4Subnet], mtu: Int?, gateway: IPv4Address?,
                neighbours: [(IPv4Address, MACAddress)] = []) {
        self.name = name
        self.addresses = addresses
        self.mtu = mtu
        self.gateway = gateway
        self.neighbours = neighbours
    }

    /// Whether the kernel has `address` on this interface.
    public func owns(_ address: IPv4Address) -> Bool { addresses.contains { $0.address == address } }

    /// The kernel's subnet on this interface that `address` falls in.
    public func subnet(containing address: IPv4Address) -> IPv4Subnet? {
        addresses.filter { $0.contains(address) }.max { $0.prefixLength < $1.prefixLength }
    }

    /// The kernel's 802.1Q interface for VLAN `identifier` on `parent` (`ip link add link PARENT
    /// name N type vlan id ID`), from /proc/net/vlan/config; nil when there is none.
    public static func vlanInterface(of parent: String, identifier: UInt16) -> String? {
        readFile("/proc/net/vlan/config").flatMap { parseVLANInterface($0, parent: parent, identifier: identifier) }
    }

    // MARK: Parsing (static, so tests feed them text)

    /// /proc/net/vlan/config: two header lines, then "name | VID | parent".
    static func parseVLANInterface(_ text: String, parent: String, identifier: UInt16) -> String? {
        for line in text.split(separator: "\n").dropFirst(2) {
            let fields = line.split(separator: "|").map { $0.trimmingWhitespace }
            if fields.count == 3, fields[2] == parent, UInt16(fields[1]) == identifier { return fields[0] }
        }
        return nil
    }

    /// `/proc/net/route`: the gateway of the default route (destination and mask 0, RTF_GATEWAY)
    /// through `interface`, the lowest metric first. Addresses there are hex in host byte order.
    static func parseDefaultGateway(_ text: String, interface: String) -> IPv4Address? {
        var best: (metric: Int, gateway: IPv4Address)?
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 8, fields[0] == interface, fields[1] == "00000000", fields[7] == "00000000",
                  let raw = UInt32(fields[2], radix: 16), let flags = UInt32(fields[3], radix: 16), flags & 0x3 == 0x3,
                  let metric = Int(fields[6]) else { continue }
            let gateway = IPv4Address(rawValue: UInt32(bigEndian: raw))  // the file holds the in-memory (network order) word
            if best.map({ metric < $0.metric }) ?? true { best = (metric, gateway) }
        }
        return best?.gateway
    }

    /// `/proc/net/arp`: "IP address  HW type  Flags  HW address  Mask  Device"; flag 0x2 is ATF_COM.
    static func parseNeighbours(_ text: String, interface: String) -> [(IPv4Address, MACAddress)] {
        text.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 6, fields[5] == interface, let flags = UInt32(fields[2].dropFirst(2), radix: 16),
                  flags & 0x2 != 0, let address = IPv4Address(String(fields[0])), let mac = MACAddress(String(fields[3])),
                  mac.isUnicast, mac != .zero else { return nil }
            return (address, mac)
        }
    }

    private static func readAddresses(of name: String) -> [IPv4Subnet] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var found: [IPv4Subnet] = []
        var entry: UnsafeMutablePointer<ifaddrs>? = first
        while let current = entry {
            defer { entry = current.pointee.ifa_next }
            guard let address = current.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
                  let mask = current.pointee.ifa_netmask, String(cString: current.pointee.ifa_name) == name else { continue }
            let host = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
            let bits = mask.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
            found.append(IPv4Subnet(address: IPv4Address(rawValue: host), prefixLength: bits.nonzeroBitCount))
        }
        return found
    }

    private static func readFile(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension StringProtocol {
    fileprivate var trimmingWhitespace: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
