import ApusWire
import Testing

@Suite struct AddressTests {
    @Test func macDescriptionAndParse() {
        let mac = MACAddress(0x02, 0x00, 0x00, 0xab, 0xcd, 0x01)
        #expect(mac.description == "02:00:00:ab:cd:01")
        #expect(MACAddress("02:00:00:ab:cd:01") == mac)
        #expect(MACAddress("02-00-00-AB-CD-01") == mac)
        #expect(MACAddress(mac.description) == mac)
        #expect(mac.rawValue == 0x0200_00AB_CD01)
        #expect(mac.octets == (2, 0, 0, 0xab, 0xcd, 1))
        #expect(MACAddress.broadcast.description == "ff:ff:ff:ff:ff:ff")
    }

    @Test(arguments: ["", "02:00:00:00:00", "02:00:00:00:00:01:02", "02:00:00:00:00:1g", "020:00:00:00:00:01", "02::00:00:00:01"])
    func macParseRejects(_ text: String) {
        #expect(MACAddress(text) == nil)
    }

    @Test func macAddressBits() {
        #expect(MACAddress.broadcast.isBroadcast && MACAddress.broadcast.isMulticast)
        #expect(MACAddress(0x01, 0x00, 0x5e, 0, 0, 1).isMulticast)
        let local = MACAddress(2, 0, 0, 0, 0, 1)
        #expect(local.isUnicast && local.isLocallyAdministered && !local.isBroadcast)
    }

    @Test func ipv4DescriptionAndParse() {
        let address = IPv4Address(10, 10, 0, 10)
        #expect(address.rawValue == 0x0A0A_000A)
        #expect(address.description == "10.10.0.10")
        #expect(IPv4Address("10.10.0.10") == address)
        #expect(IPv4Address("255.255.255.255") == .broadcast)
        #expect(IPv4Address("0.0.0.0") == .any)
        #expect(address.octets == (10, 10, 0, 10))
    }

    @Test(arguments: ["", "10.10.0", "10.10.0.10.1", "256.0.0.1", "10.010.0.1", "10..0.1", "a.b.c.d", " 10.0.0.1", "1.2.3.-4"])
    func ipv4ParseRejects(_ text: String) {
        #expect(IPv4Address(text) == nil)
    }

    @Test func ipv4Classes() {
        #expect(IPv4Address(224, 0, 0, 251).isMulticast)
        #expect(IPv4Address(127, 0, 0, 1).isLoopback)
        #expect(IPv4Address.any.isUnspecified)
        #expect(IPv4Address.broadcast.isBroadcast)
        #expect(IPv4Address(10, 0, 0, 1) < IPv4Address(10, 0, 1, 0))
    }

    /// Unknown values survive as raw values, so the stack can count and log them.
    @Test func rawValueTypesKeepUnknownValues() {
        #expect(EtherType(rawValue: 0x88CC).description == "0x88cc")
        #expect(EtherType(rawValue: 0x0800) == .ipv4)
        #expect(IPProtocol(rawValue: 132).description == "protocol 132")
        #expect(IPProtocol(rawValue: 6) == .tcp)
        #expect(ARPOperation(rawValue: 3).description == "operation 3")
        #expect(ICMPv4Type(rawValue: 13).description == "type 13")
    }

    @Test func tcpFlagsBitsAndDescription() {
        let flags: TCPFlags = [.syn, .ack]
        #expect(flags.rawValue == 0x12)
        #expect(flags.description == "SYN|ACK")
        #expect(TCPFlags(rawValue: 0xFF).description == "FIN|SYN|RST|PSH|ACK|URG|ECE|CWR")
        #expect(TCPFlags().description == "none")
    }

    @Test func errorDescriptionNamesLayerKindAndReason() {
        let error = WireError(.truncated, .tcp, "shorter than header")
        #expect(error.description == "tcp: truncated: shorter than header")
        #expect(error == WireError(.truncated, .tcp, "shorter than header"))
        #expect(error != WireError(.truncated, .udp, "shorter than header"))
    }
}
