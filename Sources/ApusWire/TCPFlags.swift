/// The TCP control bits (RFC 9293 §3.1; ECE and CWR from RFC 3168 §6.1).
public struct TCPFlags: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// No more data from sender.
    public static let fin = TCPFlags(rawValue: 0x01)
    /// Synchronize sequence numbers.
    public static let syn = TCPFlags(rawValue: 0x02)
    /// Reset the connection.
    public static let rst = TCPFlags(rawValue: 0x04)
    /// Push function.
    public static let psh = TCPFlags(rawValue: 0x08)
    /// The acknowledgment field is significant.
    public static let ack = TCPFlags(rawValue: 0x10)
    /// The urgent pointer field is significant.
    public static let urg = TCPFlags(rawValue: 0x20)
    /// ECN-Echo.
    public static let ece = TCPFlags(rawValue: 0x40)
    /// Congestion Window Reduced.
    public static let cwr = TCPFlags(rawValue: 0x80)

    public var description: String {
        let names: [(TCPFlags, String)] = [
            (.fin, "FIN"), (.syn, "SYN"), (.rst, "RST"), (.psh, "PSH"),
            (.ack, "ACK"), (.urg, "URG"), (.ece, "ECE"), (.cwr, "CWR"),
        ]
        let set = names.filter { contains($0.0) }.map(\.1)
        return set.isEmpty ? "none" : set.joined(separator: "|")
    }
}
