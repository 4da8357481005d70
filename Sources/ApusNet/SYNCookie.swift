import ApusWire

/// SYN cookies (RFC 4987 §3.6): when a listener's backlog is full, the
/// SYN,ACK's sequence number carries what the connection needs, so no
/// state is kept until the peer's ACK returns it.
///
/// Layout of the 32-bit ISN: a 5-bit counter of 64-second periods, a 3-bit
/// index into `mssTable`, and 24 bits of a keyed hash over the 4-tuple, the
/// peer's ISN and the counter. A cookie is valid in its period and the next.
/// Window scale and timestamps are not encoded, so a cookie connection runs
/// without them (as classic cookies do).
struct SYNCookie {
    /// MSS values a cookie can express; the peer's MSS is rounded down to one of them.
    static let mssTable: [Int] = [536, 1200, 1360, 1400, 1440, 1452, 1460, 8960]
    static let period: UInt64 = 64_000_000_000

    let secret: (UInt64, UInt64)

    func make(tuple: TCPFourTuple, peerSequence: SequenceNumber, peerMSS: Int, at now: NetInstant) -> SequenceNumber {
        let counter = UInt32(truncatingIfNeeded: now.nanoseconds / Self.period) & 0x1F
        let index = Self.mssTable.lastIndex(where: { $0 <= peerMSS }) ?? 0
        return SequenceNumber(counter << 27 | UInt32(index) << 24 | hash(tuple, peerSequence, counter))
    }

    /// The MSS recorded in `cookie` if it is genuine and recent, else nil.
    func validate(_ cookie: SequenceNumber, tuple: TCPFourTuple, peerSequence: SequenceNumber, at now: NetInstant) -> Int? {
        let counter = cookie.rawValue >> 27
        let current = UInt32(truncatingIfNeeded: now.nanoseconds / Self.period) & 0x1F
        guard (current &- counter) & 0x1F <= 1 else { return nil }
        let index = Int((cookie.rawValue >> 24) & 0x7)
        guard cookie.rawValue & 0xFF_FFFF == hash(tuple, peerSequence, counter) else { return nil }
        return Self.mssTable[index]
    }

    private func hash(_ tuple: TCPFourTuple, _ peerSequence: SequenceNumber, _ counter: UInt32) -> UInt32 {
        let addresses = UInt64(tuple.localAddress.rawValue) << 32 | UInt64(tuple.remoteAddress.rawValue)
        let ports = UInt64(tuple.localPort) << 48 | UInt64(tuple.remotePort) << 32 | UInt64(peerSequence.rawValue)
        // The last word separates cookie hashes from ISN hashes made with the same key.
        let value = SipHash.hash(key: secret, addresses, ports, UInt64(counter) | 0x5359_4E00_0000_0000)
        return UInt32(truncatingIfNeeded: value) & 0xFF_FFFF
    }
}
