/// Why a header could not be parsed or emitted: what went wrong (`kind`),
/// in which protocol (`layer`), and a short fixed `reason`.
///
/// `Kind` and `Layer` are structs wrapping private enums so new cases can
/// be added without breaking callers. `reason` is a `StaticString` so that
/// throwing on a hostile packet never allocates: a stack under a flood of
/// garbage frames must drop them as cheaply as it accepts good ones.
public struct WireError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        @usableFromInline enum Base: UInt8, Sendable, Hashable {
            case truncated, malformed, badChecksum, unsupported, bufferTooSmall
        }
        @usableFromInline let base: Base
        @inlinable init(_ base: Base) { self.base = base }

        /// The bytes end before the header (or a length the header claims) does.
        public static let truncated = Kind(.truncated)
        /// A field holds a value the RFC forbids (IHL < 5, data offset beyond the segment, option length 0, ...).
        public static let malformed = Kind(.malformed)
        /// A checksum did not verify. Only `verifyChecksum` throws this: parsing never checks.
        public static let badChecksum = Kind(.badChecksum)
        /// Well formed, but outside what Apus speaks (IPv4 fragments, non-Ethernet ARP, stacked VLAN tags, ...).
        public static let unsupported = Kind(.unsupported)
        /// An `emit` was given a buffer too small for what it would write; nothing was written.
        public static let bufferTooSmall = Kind(.bufferTooSmall)

        public var description: String {
            switch base {
            case .truncated: "truncated"
            case .malformed: "malformed"
            case .badChecksum: "bad checksum"
            case .unsupported: "unsupported"
            case .bufferTooSmall: "buffer too small"
            }
        }
    }

    /// The protocol whose header was being read or written.
    public struct Layer: Sendable, Hashable, CustomStringConvertible {
        @usableFromInline enum Base: UInt8, Sendable, Hashable {
            case ethernet, arp, ipv4, icmp, udp, tcp
        }
        @usableFromInline let base: Base
        @inlinable init(_ base: Base) { self.base = base }

        public static let ethernet = Layer(.ethernet)
        public static let arp = Layer(.arp)
        public static let ipv4 = Layer(.ipv4)
        public static let icmp = Layer(.icmp)
        public static let udp = Layer(.udp)
        public static let tcp = Layer(.tcp)

        public var description: String {
            switch base {
            case .ethernet: "ethernet"
            case .arp: "arp"
            case .ipv4: "ipv4"
            case .icmp: "icmp"
            case .udp: "udp"
            case .tcp: "tcp"
            }
        }
    }

    public let kind: Kind
    public let layer: Layer
    /// What was checked and failed, e.g. "data offset beyond segment".
    public let reason: StaticString

    @inlinable
    public init(_ kind: Kind, _ layer: Layer, _ reason: StaticString) {
        self.kind = kind
        self.layer = layer
        self.reason = reason
    }

    public var description: String { "\(layer): \(kind): \(reason)" }

    public static func == (lhs: WireError, rhs: WireError) -> Bool {
        lhs.kind == rhs.kind && lhs.layer == rhs.layer && lhs.reason.description == rhs.reason.description
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(layer)
        hasher.combine(reason.description)
    }
}
