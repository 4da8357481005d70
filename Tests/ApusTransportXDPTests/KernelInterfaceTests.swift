import ApusNet
import ApusWire
import ApusXSK
import Testing
@testable import ApusTransportXDP

/// Reading the kernel's view of an interface, and turning it and the flags into the stack's
/// link configuration: what is taken from the kernel, what is refused and why.
@Suite struct KernelInterfaceTests {
    static let route = """
        Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
        eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
        eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
        apus-s\t00000000\t FE000A0A\t0003\t0\t0\t200\t00000000\t0\t0\t0
        apus-s\t00000000\t010A0A0A\t0003\t0\t0\t100\t00000000\t0\t0\t0
        apus-s\t00000A0A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
        """

    @Test func theDefaultGatewayIsTheLowestMetricDefaultRouteOfTheInterface() {
        #expect(KernelInterface.parseDefaultGateway(Self.route, interface: "eth0") == IPv4Address(192, 0, 2, 1))
        #expect(KernelInterface.parseDefaultGateway(Self.route, interface: "apus-s") == IPv4Address(10, 10, 10, 1))
        #expect(KernelInterface.parseDefaultGateway(Self.route, interface: "lo") == nil)
    }

    @Test func neighboursAreTheCompleteEntriesOfTheInterface() {
        let arp = """
            IP address       HW type     Flags       HW address            Mask     Device
            10.10.0.2        0x1         0x2         02:aa:00:00:00:02     *        apus-s
            10.10.0.3        0x1         0x0         00:00:00:00:00:00     *        apus-s
            192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0
            """
        let neighbours = KernelInterface.parseNeighbours(arp, interface: "apus-s")
        #expect(neighbours.map(\.0) == [IPv4Address(10, 10, 0, 2)])
        #expect(neighbours.map(\.1) == [MACAddress(0x02, 0xaa, 0, 0, 0, 0x02)])
    }

    @Test func theVLANInterfaceOfAParentIsFound() {
        let config = """
            VLAN Dev name    | VLAN ID
            Name-Type: VLAN_NAME_TYPE_RAW_PLUS_VID_NO_PAD
            apus-s.100     | 100  | apus-s
            eth0.7         | 7  | eth0
            """
        #expect(KernelInterface.parseVLANInterface(config, parent: "apus-s", identifier: 100) == "apus-s.100")
        #expect(KernelInterface.parseVLANInterface(config, parent: "apus-s", identifier: 7) == nil)
    }

    @Test func aVLANIsCarriedToTheStackAndChecked() throws {
        var placement = XDPPlacement(interface: "apus-s", address: "10.10.0.10")
        placement.vlan = 100
        let (interface, _) = try placement.network(macAddress: Self.mac, kernel: Self.kernel)
        #expect(interface.vlan == 100)
        placement.vlan = 4095
        #expect(throws: XSKError.self) { try placement.network(macAddress: Self.mac, kernel: Self.kernel) }
    }

    @Test func theLoopbackInterfaceIsReadFromThisKernel() {
        let lo = KernelInterface(name: "lo")
        #expect(lo.owns(IPv4Address(127, 0, 0, 1)))
        #expect(lo.subnet(containing: IPv4Address(127, 0, 0, 1))?.prefixLength == 8)
        #expect(lo.mtu == 65536)
    }

    static let mac = MACAddress(0x02, 0, 0, 0, 0, 1)
    static let kernel = KernelInterface(
        name: "apus-s", addresses: [IPv4Subnet(address: IPv4Address(10, 10, 0, 1), prefixLength: 24)], mtu: 1500,
        gateway: IPv4Address(10, 10, 0, 254), neighbours: [(IPv4Address(10, 10, 0, 2), MACAddress(0x02, 0, 0, 0, 0, 2))])

    @Test func anAddressOfItsOwnTakesPrefixMTUAndGatewayFromTheKernel() throws {
        let placement = XDPPlacement(interface: "apus-s", address: "10.10.0.10")
        let (interface, steering) = try placement.network(macAddress: Self.mac, kernel: Self.kernel)
        #expect(steering == .address)
        #expect(interface.addresses == [IPv4Address(10, 10, 0, 10)])
        #expect(interface.subnet == IPv4Subnet(address: IPv4Address(10, 10, 0, 10), prefixLength: 24))
        #expect(interface.gateway == IPv4Address(10, 10, 0, 254))
        #expect(interface.mtu == 1500)
    }

    @Test func theKernelsOwnAddressIsServedByPortSteering() throws {
        let placement = XDPPlacement(interface: "apus-s", address: "10.10.0.1")
        let (interface, steering) = try placement.network(macAddress: Self.mac, kernel: Self.kernel)
        #expect(steering == .ports)
        #expect(interface.addresses == [IPv4Address(10, 10, 0, 1)])
    }

    @Test func flagsOverrideTheKernel() throws {
        var placement = XDPPlacement(interface: "apus-s", address: "10.10.0.10", prefixLength: 16)
        placement.gateway = "10.10.9.9"
        placement.mtu = 1400
        let (interface, _) = try placement.network(macAddress: Self.mac, kernel: Self.kernel)
        #expect(interface.subnet?.prefixLength == 16)
        #expect(interface.gateway == IPv4Address(10, 10, 9, 9))
        #expect(interface.mtu == 1400)
    }

    @Test func aJumboMTUIsCappedAtWhatAFrameHolds() throws {
        var kernel = Self.kernel
        kernel.mtu = 9000
        let (interface, _) = try XDPPlacement(interface: "apus-s", address: "10.10.0.10").network(macAddress: Self.mac, kernel: kernel)
        #expect(interface.mtu == 4096 - 256 - 18)
    }

    @Test(arguments: [
        ("10.10.0.1", XDPPlacement.Steering.address, "the kernel's own address"),
        ("10.10.0.10", XDPPlacement.Steering.ports, "port steering serves an address the kernel has"),
        ("10.10.0.2", XDPPlacement.Steering.address, "another host"),
        ("10.99.0.10", XDPPlacement.Steering.address, "give --prefix-length"),
        ("10.10.0.300", XDPPlacement.Steering.address, "not an IPv4 address"),
    ])
    func whatWouldTakeSomeoneElsesTrafficIsRefused(address: String, steering: XDPPlacement.Steering, says: String) {
        var placement = XDPPlacement(interface: "apus-s", address: address)
        placement.steering = steering
        do {
            _ = try placement.network(macAddress: Self.mac, kernel: Self.kernel)
            Issue.record("accepted \(address) with \(steering) steering")
        } catch {
            #expect("\(error)".contains(says), "\(error)")
        }
    }

    @Test func aGatewayOffTheSubnetIsRefused() {
        var placement = XDPPlacement(interface: "apus-s", address: "10.10.0.10")
        placement.gateway = "192.168.1.1"
        #expect(throws: XSKError.self) { try placement.network(macAddress: Self.mac, kernel: Self.kernel) }
    }

    @Test func aLockedMemoryLimitTooSmallForTheUMEMIsNamed() {
        #expect(Capabilities.shortfall(bytes: 64 << 20, limit: 8 << 20)?.contains("CAP_IPC_LOCK") == true)
        #expect(Capabilities.shortfall(bytes: 4 << 20, limit: 8 << 20) == nil)
        #expect(Capabilities.shortfall(bytes: 64 << 20, limit: nil) == nil, "unlimited")
        #expect(Capabilities.lockedMemoryShortfall(bytes: 1 << 40, effective: 1 << 14) == nil, "CAP_IPC_LOCK: no limit applies")
    }

    @Test func capabilitiesAreNamed() {
        #expect(Capabilities.missingForXDP(0) == "CAP_NET_RAW, CAP_NET_ADMIN, CAP_BPF")
        let granted: UInt64 = 1 << 12 | 1 << 13 | 1 << 39
        #expect(Capabilities.missingForXDP(granted) == nil)
        #expect(Capabilities.missingForXDP(1 << 12 | 1 << 13 | 1 << 21) == nil, "CAP_SYS_ADMIN grants what CAP_BPF does")
        #expect(Capabilities.missingForXDP(1 << 12) == "CAP_NET_RAW, CAP_BPF")
    }
}
