/// The IPv4 Protocol field (RFC 791 §3.1, IANA "Assigned Internet Protocol Numbers").
///
/// A raw-value struct so unknown protocols survive parsing; the stack answers
/// them (or not) itself.
public struct IPProtocol: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let icmp = IPProtocol(rawValue: 1)
    public static let tcp = IPProtocol(rawValue: 6)
    public static let udp = IPProtocol(rawValue: 17)

    public var description: String {
        switch self {
        case .icmp: "ICMP"
        case .tcp: "TCP"
        case .udp: "UDP"
        default: "protocol \(rawValue)"
        }
    }
}
