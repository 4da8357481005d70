/// A hashed timing wheel for connection timers (after Varghese & Lauck): a
/// slot per tick of about a millisecond (2^20 ns), 4096 slots (about 4.3 s per
/// turn); a deadline further out waits in its slot for later turns. Each
/// connection has at most one entry, which keeps its exact deadline, so timers
/// fire exactly when due (not rounded to a tick) and `nextExpiry` is exact.
///
/// Setting, moving and cancelling a timer are O(1) (every entry knows its slot
/// and position; removal swaps with the slot's last entry), a bitmap of
/// non-empty slots finds the next expiry in a few word scans, and `expire`
/// touches only the slots whose ticks passed, so `poll` costs follow the
/// timers that fire, not the number of connections.
struct TimerWheel {
    struct Entry {
        var index: Int32
        var deadline: NetInstant
    }

    static let tickShift: UInt64 = 20
    static let slotCount = 4096
    static let mask = UInt64(slotCount - 1)

    private var slots = [[Entry]](repeating: [], count: TimerWheel.slotCount)
    /// Bit s set: slot s holds entries.
    private var occupied = [UInt64](repeating: 0, count: TimerWheel.slotCount / 64)
    /// Per connection index: its entry's slot and position, or -1.
    private var slotOf: [Int32] = []
    private var positionOf: [Int32] = []
    /// The first tick whose slot has not been fully processed.
    private var cursor: UInt64 = 0
    private(set) var count = 0
    /// The earliest deadline, when known (nil: find it again).
    private var cachedNext: NetInstant? = .distantFuture

    @inline(__always) static func tick(_ instant: NetInstant) -> UInt64 { instant.nanoseconds >> tickShift }

    /// Sets (or moves) `index`'s timer to `deadline`; `distantFuture` cancels it.
    mutating func set(_ index: Int, at deadline: NetInstant) {
        cancel(index)
        guard deadline < .distantFuture else { return }
        while slotOf.count <= index {
            slotOf.append(-1)
            positionOf.append(-1)
        }
        let slot = Int(max(Self.tick(deadline), cursor) & Self.mask)
        slotOf[index] = Int32(slot)
        positionOf[index] = Int32(slots[slot].count)
        slots[slot].append(Entry(index: Int32(index), deadline: deadline))
        occupied[slot >> 6] |= 1 << UInt64(slot & 63)
        count += 1
        if let next = cachedNext { cachedNext = min(next, deadline) }
    }

    mutating func cancel(_ index: Int) {
        guard index < slotOf.count, slotOf[index] >= 0 else { return }
        let slot = Int(slotOf[index]), position = Int(positionOf[index])
        if cachedNext == slots[slot][position].deadline { cachedNext = nil }
        remove(slot: slot, position: position)
    }

    private mutating func remove(slot: Int, position: Int) {
        let removed = Int(slots[slot][position].index)
        let last = slots[slot].count - 1
        if position != last {
            let moved = slots[slot][last]
            slots[slot][position] = moved
            positionOf[Int(moved.index)] = Int32(position)
        }
        slots[slot].removeLast()
        if slots[slot].isEmpty { occupied[slot >> 6] &= ~(1 << UInt64(slot & 63)) }
        slotOf[removed] = -1
        positionOf[removed] = -1
        count -= 1
    }

    /// Removes every entry due at `now` (deadline <= now) and calls `body` with its index.
    mutating func expire(upTo now: NetInstant, _ body: (Int) -> Void) {
        let nowTick = Self.tick(now)
        guard count > 0 else {
            cursor = nowTick
            return
        }
        guard cursor <= nowTick else { return }
        // A jump of more than a turn visits each slot once.
        let last = min(nowTick, cursor + UInt64(Self.slotCount) - 1)
        var tick = cursor
        while tick <= last {
            let slot = Int(tick & Self.mask)
            if occupied[slot >> 6] & (1 << UInt64(slot & 63)) != 0 {
                var position = 0
                while position < slots[slot].count {
                    let entry = slots[slot][position]
                    if entry.deadline <= now {
                        remove(slot: slot, position: position)  // the last entry moves here: look again
                        cachedNext = nil
                        body(Int(entry.index))
                    } else {
                        position += 1
                    }
                }
            }
            tick += 1
        }
        // The current tick's slot may still hold entries due later within the tick: keep it current.
        cursor = nowTick
    }

    /// The earliest deadline in the wheel, or `distantFuture` when it is empty.
    mutating func nextExpiry() -> NetInstant {
        if let cachedNext { return cachedNext }
        var earliest = NetInstant.distantFuture
        if count > 0 {
            // The first occupied slot holding an entry of its own turn has the earliest
            // deadline; when no slot in a whole turn does, all are further out: take the minimum.
            var offset: UInt64 = 0
            while offset < UInt64(Self.slotCount) {
                let tick = cursor + offset
                let slot = Int(tick & Self.mask)
                let word = occupied[slot >> 6] >> UInt64(slot & 63)
                if word == 0 {
                    offset += UInt64(64 - (slot & 63))  // the rest of this word is empty
                    continue
                }
                let skip = UInt64(word.trailingZeroBitCount)
                if skip > 0 {
                    offset += skip
                    continue
                }
                for entry in slots[slot] where Self.tick(entry.deadline) <= tick { earliest = min(earliest, entry.deadline) }
                if earliest < .distantFuture { break }
                offset += 1
            }
            if earliest == .distantFuture {
                for slot in slots { for entry in slot { earliest = min(earliest, entry.deadline) } }
            }
        }
        cachedNext = earliest
        return earliest
    }
}
