/// Consistent hashing for sharded services: each endpoint owns points on a
/// 64-bit ring in proportion to its weight, and a key goes to the owner of
/// the first point at or after the key's hash. Adding one endpoint to N
/// moves only the keys that land on its new points, about 1/(N+1) of them;
/// the ring depends only on endpoint ids and weights, so every client maps a
/// key to the same endpoint.
package struct HashRing: Sendable {
    /// Points per unit of weight: enough that shares stay within a few percent of the weights.
    package static let pointsPerWeight = 160

    /// Ring points in ascending order, and the member index each belongs to.
    private var points: [UInt64] = []
    private var owners: [Int] = []

    package init() {}

    /// Builds the ring for `members` (ids and weights); owners are indexes into that array.
    package init(_ members: [(id: String, weight: Int)]) {
        var entries: [(point: UInt64, owner: Int)] = []
        entries.reserveCapacity(members.reduce(0) { $0 + $1.weight * Self.pointsPerWeight })
        for (index, member) in members.enumerated() {
            for replica in 0..<(member.weight * Self.pointsPerWeight) {
                entries.append((Self.hash("\(member.id)#\(replica)"), index))
            }
        }
        entries.sort { $0.point < $1.point || ($0.point == $1.point && $0.owner < $1.owner) }
        points = entries.map(\.point)
        owners = entries.map(\.owner)
    }

    package var isEmpty: Bool { points.isEmpty }

    /// The members that own the ring from `key`'s position on, each once, nearest first;
    /// `accept` picks the first usable one (not ejected, not tried yet).
    package func owner(of key: UInt64, where accept: (Int) -> Bool) -> Int? {
        guard !points.isEmpty else { return nil }
        var low = 0
        var high = points.count
        while low < high {
            let middle = (low + high) / 2
            if points[middle] < key { low = middle + 1 } else { high = middle }
        }
        var rejected: [Int] = []
        for step in 0..<points.count {
            let owner = owners[(low + step) % points.count]
            if rejected.contains(owner) { continue }
            if accept(owner) { return owner }
            rejected.append(owner)
        }
        return nil
    }

    /// FNV-1a over the UTF-8 bytes, then a SplitMix64 finalizer so nearby strings spread
    /// over the whole ring. Stable across processes and platforms (unlike `Hasher`).
    package static func hash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        hash ^= hash >> 30
        hash &*= 0xbf58_476d_1ce4_e5b9
        hash ^= hash >> 27
        hash &*= 0x94d0_49bb_1331_11eb
        hash ^= hash >> 31
        return hash
    }
}
