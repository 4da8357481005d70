import ApusNet
import ApusWire

extension NetStackConfiguration {
    /// `receiveWindowBudget` for a stack on one AF_XDP queue: full segments for half the RX
    /// ring's entries. The other half is left for what else the ring carries (the peers' ACKs
    /// of our own data, new connections, ARP), so a burst from every sender at once still
    /// fits while the loop is busy, instead of overflowing the ring into retransmissions.
    package static func receiveWindowBudget(rxRingEntries: UInt32, mtu: Int) -> Int {
        Int(rxRingEntries) / 2 * (mtu - IPv4Packet.minimumHeaderLength - TCPSegment.minimumHeaderLength)
    }
}
