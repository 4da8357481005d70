/// SipHash-2-4 (Aumasson and Bernstein, 2012) over 64-bit words: the keyed
/// function behind initial sequence numbers (RFC 6528 §3 asks for a keyed
/// hash of the 4-tuple) and SYN cookies (RFC 4987 §3.6).
struct SipHash {
    private var v0: UInt64, v1: UInt64, v2: UInt64, v3: UInt64
    private var length: UInt64 = 0

    init(key: (UInt64, UInt64)) {
        v0 = key.0 ^ 0x736f_6d65_7073_6575
        v1 = key.1 ^ 0x646f_7261_6e64_6f6d
        v2 = key.0 ^ 0x6c79_6765_6e65_7261
        v3 = key.1 ^ 0x7465_6462_7974_6573
    }

    private mutating func round() {
        v0 &+= v1; v1 = v1.rotatedLeft(13); v1 ^= v0; v0 = v0.rotatedLeft(32)
        v2 &+= v3; v3 = v3.rotatedLeft(16); v3 ^= v2
        v0 &+= v3; v3 = v3.rotatedLeft(21); v3 ^= v0
        v2 &+= v1; v1 = v1.rotatedLeft(17); v1 ^= v2; v2 = v2.rotatedLeft(32)
    }

    mutating func add(_ word: UInt64) {
        v3 ^= word
        round(); round()
        v0 ^= word
        length &+= 8
    }

    consuming func finalize() -> UInt64 {
        let last = length << 56
        v3 ^= last
        round(); round()
        v0 ^= last
        v2 ^= 0xFF
        round(); round(); round(); round()
        return v0 ^ v1 ^ v2 ^ v3
    }

    static func hash(key: (UInt64, UInt64), _ words: UInt64...) -> UInt64 {
        var hasher = SipHash(key: key)
        for word in words { hasher.add(word) }
        return hasher.finalize()
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(_ count: UInt64) -> UInt64 { self << count | self >> (64 - count) }
}
