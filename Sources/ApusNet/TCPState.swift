import ApusWire

/// The connection states of RFC 9293 §3.3.2.
public enum TCPState: Sendable, Hashable, CustomStringConvertible {
    case closed, listen, synSent, synReceived, established
    case finWait1, finWait2, closeWait, closing, lastAck, timeWait

    /// States in which both sequence numbers are known (RFC 9293 §3.5.2 "synchronized").
    public var isSynchronized: Bool {
        switch self {
        case .closed, .listen, .synSent, .synReceived: false
        default: true
        }
    }

    /// Whether the application may still queue data.
    public var canSend: Bool { self == .established || self == .closeWait }

    /// Whether segment text is still accepted (RFC 9293 §3.10.7.4, seventh step).
    var acceptsText: Bool { self == .established || self == .finWait1 || self == .finWait2 }

    public var description: String {
        switch self {
        case .closed: "CLOSED"
        case .listen: "LISTEN"
        case .synSent: "SYN-SENT"
        case .synReceived: "SYN-RECEIVED"
        case .established: "ESTABLISHED"
        case .finWait1: "FIN-WAIT-1"
        case .finWait2: "FIN-WAIT-2"
        case .closeWait: "CLOSE-WAIT"
        case .closing: "CLOSING"
        case .lastAck: "LAST-ACK"
        case .timeWait: "TIME-WAIT"
        }
    }
}

/// The two endpoints of a connection, the key of the connection table.
public struct TCPFourTuple: Sendable, Hashable, CustomStringConvertible {
    public var localAddress: IPv4Address
    public var localPort: UInt16
    public var remoteAddress: IPv4Address
    public var remotePort: UInt16

    public init(localAddress: IPv4Address, localPort: UInt16, remoteAddress: IPv4Address, remotePort: UInt16) {
        self.localAddress = localAddress
        self.localPort = localPort
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
    }

    public var description: String { "\(localAddress):\(localPort)<->\(remoteAddress):\(remotePort)" }
}

/// One traced state change (`TCPConnection.setState`).
public struct TCPStateChange: Sendable, Hashable, CustomStringConvertible {
    public var connection: TCPFourTuple
    public var from: TCPState
    public var to: TCPState
    public var description: String { "\(connection): \(from) -> \(to)" }
}

/// Why a connection ended, as the application sees it.
public enum TCPCloseReason: Sendable, Hashable {
    /// Both FINs exchanged and acknowledged (or TIME-WAIT ran out).
    case normal
    /// The peer sent an acceptable RST.
    case reset
    /// The peer refused the active open (RST in SYN-SENT).
    case refused
    /// Retransmissions (or keepalive probes) ran out (RFC 9293 §3.8.3, R2).
    case timedOut
    /// The application called `abort`.
    case aborted
}

/// Names a connection in the stack's table. The generation makes a handle of a
/// reclaimed slot invalid instead of pointing at its next occupant.
public struct TCPHandle: Sendable, Hashable, CustomStringConvertible {
    let index: UInt32
    let generation: UInt32
    public var description: String { "tcp#\(index).\(generation)" }
}

/// Names a bound UDP endpoint: its local port.
public struct UDPHandle: Sendable, Hashable, CustomStringConvertible {
    public let port: UInt16
    public var description: String { "udp:\(port)" }
}

/// What happened that the application should act on.
public enum NetEvent: Sendable, Hashable {
    /// A passive open completed on a listening port; the connection is ESTABLISHED (or
    /// already past it, with data queued).
    case accepted(TCPHandle, localPort: UInt16)
    /// An active open completed.
    case connected(TCPHandle)
    /// In-order data (or the peer's FIN: then `read` returns 0 and `isAtEndOfStream` is true)
    /// is waiting.
    case readable(TCPHandle)
    /// Send buffer space freed after a write was cut short.
    case writable(TCPHandle)
    /// The connection is gone and its handle is now invalid.
    case closed(TCPHandle, TCPCloseReason)
    /// A datagram is queued on this endpoint.
    case datagram(UDPHandle)
}
