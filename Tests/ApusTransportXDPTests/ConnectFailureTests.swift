import ApusNet
import ApusWire
import Testing
@testable import ApusTransportXDP

/// Why an XDP client could not connect, in words an operator can act on.
@Suite struct ConnectFailureTests {
    static func stack(gateway: IPv4Address?) -> NetStack {
        let address = IPv4Address(10, 10, 0, 2)
        return NetStack(configuration: NetStackConfiguration(interface: InterfaceConfiguration(
            macAddress: MACAddress(0x02, 0, 0, 0, 0, 2), addresses: [address],
            subnet: IPv4Subnet(address: address, prefixLength: 24), gateway: gateway)))
    }

    @Test func aGatewayThatNeverAnsweredARPIsNamed() {
        let stack = Self.stack(gateway: IPv4Address(10, 10, 0, 254))
        let why = XDPClientPool.explain(.timedOut, to: IPv4Address(10, 20, 0, 1), stack: stack, at: .seconds(10))
        #expect(why.contains("the gateway 10.10.0.254 never answered ARP"), "\(why)")
    }

    @Test func anOnLinkServerThatNeverAnsweredARPIsNamed() {
        let stack = Self.stack(gateway: nil)
        let why = XDPClientPool.explain(.timedOut, to: IPv4Address(10, 10, 0, 1), stack: stack, at: .seconds(10))
        #expect(why.contains("10.10.0.1 never answered ARP"), "\(why)")
    }

    @Test func anOffLinkServerWithoutAGatewayHasNoRoute() {
        let stack = Self.stack(gateway: nil)
        let why = XDPClientPool.explain(.timedOut, to: IPv4Address(10, 20, 0, 1), stack: stack, at: .seconds(10))
        #expect(why.contains("no route"), "\(why)")
        #expect(XDPClientPool.explain(.refused, to: IPv4Address(10, 10, 0, 1), stack: stack, at: .seconds(10)).contains("RST"))
    }
}
