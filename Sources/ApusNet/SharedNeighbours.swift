import ApusWire
import Synchronization

/// Neighbours learned by any of the stacks on one interface (one per NIC queue). An ARP
/// reply lands on whichever queue the NIC hashes it to, but the flow that waits for it may
/// live on another: each stack publishes what it learns here and consults it on a miss
/// in its own cache, before (and between) its ARP requests.
///
/// The hot path never touches it: a stack's own `ARPCache` answers every lookup while its
/// entry lives; only a miss (once per neighbour per entry lifetime) takes the lock.
public final class SharedNeighbours: Sendable {
    private struct Entry {
        var mac: MACAddress
        var learned: NetInstant
    }

    private let entries = Mutex<[IPv4Address: Entry]>([:])
    /// Entries older than this are not handed out (the stacks' `ARPConfiguration.entryLifetime`).
    public let lifetime: NetDuration
    /// At most this many neighbours (the oldest make room).
    public let capacity: Int

    public init(lifetime: NetDuration = ARPConfiguration().entryLifetime, capacity: Int = ARPConfiguration().maximumEntries) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// Records that `address` is at `mac` as of `now` (learned from ARP by one of the stacks).
    public func publish(_ address: IPv4Address, at mac: MACAddress, now: NetInstant) {
        entries.withLock { entries in
            if entries[address] == nil && entries.count >= capacity,
               let oldest = entries.min(by: { $0.value.learned < $1.value.learned })?.key {
                entries[oldest] = nil
            }
            entries[address] = Entry(mac: mac, learned: now)
        }
    }

    /// Where `address` is, if a stack learned it within `lifetime`.
    public func lookup(_ address: IPv4Address, at now: NetInstant) -> MACAddress? {
        entries.withLock { entries in
            guard let entry = entries[address], now - entry.learned < lifetime else { return nil }
            return entry.mac
        }
    }
}
