/// At most one log line per kind per interval; the line that gets through says
/// how many of its kind were left out since the last one. A flood of bad
/// peers (a thousand resets, a SYN flood's failures) then costs a line a
/// second, not a line a packet. Sans-IO: fed the time.
package struct LogLimiter: Sendable {
    private struct Entry: Sendable {
        var last: Duration
        var suppressed: Int
    }

    package let interval: Duration
    private var entries: [String: Entry] = [:]

    package init(interval: Duration = .seconds(1)) {
        self.interval = interval
    }

    /// nil: leave this line out. Otherwise log it, noting the count returned (lines of this kind
    /// left out since the last one that got through).
    package mutating func admit(_ kind: String, at now: Duration) -> Int? {
        guard var entry = entries[kind] else {
            entries[kind] = Entry(last: now, suppressed: 0)
            return 0
        }
        guard now - entry.last >= interval else {
            entry.suppressed += 1
            entries[kind] = entry
            return nil
        }
        let suppressed = entry.suppressed
        entries[kind] = Entry(last: now, suppressed: 0)
        return suppressed
    }
}
