extension Duration {
    /// The duration in the unit a person reads at a glance — `28.4µs`,
    /// `3.15ms`, `10s` — for logs and messages; `Duration`'s own description
    /// prints `2.8432e-05 seconds`.
    public var humanReadable: String {
        let (seconds, attoseconds) = components
        let total = Double(seconds) + Double(attoseconds) / 1e18
        let magnitude = abs(total)
        func trimmed(_ value: Double, _ unit: String) -> String {
            // Three significant digits at most, no trailing zeros.
            let digits = value >= 100 ? 0 : value >= 10 ? 1 : 2
            let scale = digits == 0 ? 1 : digits == 1 ? 10 : 100
            let scaled = Int((value * Double(scale)).rounded())
            var text = "\(scaled / scale)"
            if scale > 1 {
                var fraction = String(scaled % scale)
                while fraction.count < digits { fraction = "0" + fraction }
                while fraction.hasSuffix("0") { fraction.removeLast() }
                if !fraction.isEmpty { text += "." + fraction }
            }
            return (total < 0 ? "-" : "") + text + unit
        }
        if magnitude == 0 { return "0s" }
        if magnitude < 1e-6 { return trimmed(magnitude * 1e9, "ns") }
        if magnitude < 1e-3 { return trimmed(magnitude * 1e6, "µs") }
        if magnitude < 1 { return trimmed(magnitude * 1e3, "ms") }
        return trimmed(magnitude, "s")
    }
}
