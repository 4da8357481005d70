/// A hashed timing wheel for connection timers (after Varghese & Lauck): a
/// slot per tick of about a millisecond (2^20 ns), 4096 slots (about 4.3 s per
/// turn); a deadline further out waits in its slot for later turns. Entries
/// keep their exact deadline, so timers fire exactly when due, not rounded to
/// a tick, and `nextExpiry` is exact too.
///
/// Scheduling is O(1) and `poll` touches only the slots that passed, instead
/// of every connection. Entries are never removed: the stack remembers the
/// deadline it scheduled per connection and ignores entries that no longer
/// match (a timer restarted later, a connection gone).
struct TimerWheel {
    struct Entry {
        var index: Int32
        var deadline: NetInstant
    }

    static let tickShift: UInt64 = 20
    static let slotCount = 4096
    static let mask = UInt64(slotCount - 1)

    private var slots = [[Entry]](repeating: [], count: TimerWheel.slotCount)
    /// The first tick whose slot has not been fully processed.
    private var cursor: UInt64 = 0
    private(set) var count = 0
    /// The earliest deadline in the wheel when known (nil: recompute).
    private var cachedNext: NetInstant? = .distantFuture

    @inline(__always) static func tick(_ instant: NetInstant) -> UInt64 { instant.nanoseconds >> tickShift }

    mutating func schedule(_ index: Int, at deadline: NetInstant) {
        guard deadline < .distantFuture else { return }
        let tick = max(Self.tick(deadline), cursor)
        slots[Int(tick & Self.mask)].append(Entry(index: Int32(index), deadline: deadline))
        count += 1
        if let next = cachedNext { cachedNext = min(next, deadline) }
    }

    /// Calls `body` for every entry due at `now` (deadline <= now), removing it.
    mutating func expire(upTo now: NetInstant, _ body: (Int, NetInstant) -> Void) {
        guard count > 0 else {
            cursor = Self.tick(now)
            return
        }
        let nowTick = Self.tick(now)
        guard cursor <= nowTick else { return }
        // A jump of more than a turn visits each slot once.
        let last = min(nowTick, cursor + UInt64(Self.slotCount) - 1)
        var fired = false
        var tick = cursor
        while tick <= last {
            let slot = Int(tick & Self.mask)
            if !slots[slot].isEmpty {
                var kept = 0
                for position in slots[slot].indices {
                    let entry = slots[slot][position]
                    if entry.deadline <= now {
                        count -= 1
                        fired = true
                        body(Int(entry.index), entry.deadline)
                    } else {
                        slots[slot][kept] = entry
                        kept += 1
                    }
                }
                slots[slot].removeLast(slots[slot].count - kept)
            }
            tick += 1
        }
        // The current tick's slot may still hold entries due later within the tick: keep it current.
        cursor = nowTick
        if fired { cachedNext = nil }
    }

    /// Forgets the cached earliest deadline: an entry became stale.
    mutating func invalidateCache() { cachedNext = nil }

    /// The earliest deadline among entries `isValid` accepts, or `distantFuture`.
    mutating func nextExpiry(_ isValid: (Int, NetInstant) -> Bool) -> NetInstant {
        if let cachedNext { return cachedNext }
        var earliest = NetInstant.distantFuture
        if count > 0 {
            // The first slot holding an entry of its own turn has the earliest of them;
            // if a whole turn has none, every entry is further out: take the minimum.
            for offset in 0..<UInt64(Self.slotCount) {
                let tick = cursor + offset
                for entry in slots[Int(tick & Self.mask)]
                where Self.tick(entry.deadline) <= tick && isValid(Int(entry.index), entry.deadline) {
                    earliest = min(earliest, entry.deadline)
                }
                if earliest < .distantFuture { break }
            }
            if earliest == .distantFuture {
                for slot in slots {
                    for entry in slot where isValid(Int(entry.index), entry.deadline) { earliest = min(earliest, entry.deadline) }
                }
            }
        }
        cachedNext = earliest
        return earliest
    }
}
