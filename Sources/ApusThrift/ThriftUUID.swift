/// A Thrift `uuid` (type 16): 16 bytes in network order, as in RFC 9562.
public struct ThriftUUID: Sendable, Hashable, CustomStringConvertible {
    /// The first and last 8 bytes, big-endian.
    public var high: UInt64
    public var low: UInt64

    @inlinable
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses the 8-4-4-4-12 hexadecimal form (either case).
    public init?(_ text: String) {
        var high: UInt64 = 0, low: UInt64 = 0, digits = 0
        for (index, char) in text.utf8.enumerated() {
            if char == UInt8(ascii: "-") {
                guard [8, 13, 18, 23].contains(index) else { return nil }
                continue
            }
            guard let nibble = Self.hexValue(char) else { return nil }
            if digits < 16 { high = high << 4 | UInt64(nibble) } else { low = low << 4 | UInt64(nibble) }
            digits += 1
        }
        guard digits == 32, text.utf8.count == 36 else { return nil }
        self.init(high: high, low: low)
    }

    private static func hexValue(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Lowercase 8-4-4-4-12 text.
    public var description: String {
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (index, word) in [high, low].enumerated() {
            for nibbleIndex in 0..<16 {
                let position = index * 16 + nibbleIndex
                if position == 8 || position == 12 || position == 16 || position == 20 { out.append(UInt8(ascii: "-")) }
                out.append(hex[Int((word >> UInt64(60 - 4 * nibbleIndex)) & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
