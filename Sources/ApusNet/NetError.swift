/// Why a call into the stack failed: what was asked (`operation`) and what
/// stood in the way (`kind`).
///
/// Like `WireError`, the kinds are a struct over a private enum so cases can
/// be added, and nothing here allocates.
public struct NetError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        enum Base: UInt8, Sendable, Hashable {
            case invalidHandle, addressInUse, portExhausted, connectionLimit, memoryLimit
            case connectionClosed, wouldBlock, noRoute, messageTooLarge, invalidArgument
        }
        let base: Base
        init(_ base: Base) { self.base = base }

        /// The handle names no live socket (closed and reclaimed, or never valid).
        public static let invalidHandle = Kind(.invalidHandle)
        /// The port (or 4-tuple) is taken.
        public static let addressInUse = Kind(.addressInUse)
        /// No ephemeral port is free for this destination.
        public static let portExhausted = Kind(.portExhausted)
        /// The connection table is full (`NetStackConfiguration.maximumConnections`).
        public static let connectionLimit = Kind(.connectionLimit)
        /// The buffers of one more connection would exceed `maximumBufferMemory`.
        public static let memoryLimit = Kind(.memoryLimit)
        /// The connection was closed for sending (`close` was called or it was reset).
        public static let connectionClosed = Kind(.connectionClosed)
        /// No TX frame was free; the caller still owns what it wanted to send.
        public static let wouldBlock = Kind(.wouldBlock)
        /// The destination is off-link and no gateway is configured.
        public static let noRoute = Kind(.noRoute)
        /// The datagram does not fit the MTU (Apus never fragments).
        public static let messageTooLarge = Kind(.messageTooLarge)
        /// A value outside what the call accepts (port 0, an address the interface does not own, ...).
        public static let invalidArgument = Kind(.invalidArgument)

        public var description: String {
            switch base {
            case .invalidHandle: "invalid handle"
            case .addressInUse: "address in use"
            case .portExhausted: "no free port"
            case .connectionLimit: "connection limit reached"
            case .memoryLimit: "buffer memory limit reached"
            case .connectionClosed: "connection closed"
            case .wouldBlock: "would block"
            case .noRoute: "no route"
            case .messageTooLarge: "message too large"
            case .invalidArgument: "invalid argument"
            }
        }
    }

    /// The call that failed, e.g. "tcp connect".
    public let operation: StaticString
    public let kind: Kind

    public init(_ kind: Kind, _ operation: StaticString) {
        self.kind = kind
        self.operation = operation
    }

    public var description: String { "\(operation): \(kind)" }

    public static func == (lhs: NetError, rhs: NetError) -> Bool {
        lhs.kind == rhs.kind && lhs.operation.description == rhs.operation.description
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(operation.description)
    }
}
