import ApusWire

/// Where a received UDP datagram came from.
public struct UDPSource: Sendable, Hashable {
    public var address: IPv4Address
    public var port: UInt16
    /// Which of our addresses it was sent to.
    public var destination: IPv4Address

    public init(address: IPv4Address, port: UInt16, destination: IPv4Address) {
        self.address = address
        self.port = port
        self.destination = destination
    }
}

/// Receives payload straight from the frame during `NetStack.receive`, so
/// the common case (in-order TCP data, a datagram the application wants
/// now) costs no copy. Whatever is not consumed is buffered by the stack.
/// The views are valid only for the call.
public protocol NetDelivery {
    /// In-order TCP payload for `connection`, offered only when nothing is buffered ahead of
    /// it. Returns how many leading bytes were consumed.
    mutating func deliver(_ bytes: UnsafeRawBufferPointer, on connection: TCPHandle) -> Int
    /// A UDP datagram for `endpoint`. Returns true when consumed; false queues a copy.
    mutating func deliver(datagram: UnsafeRawBufferPointer, from source: UDPSource, on endpoint: UDPHandle) -> Bool
}

extension NetDelivery {
    public mutating func deliver(_ bytes: UnsafeRawBufferPointer, on connection: TCPHandle) -> Int { 0 }
    public mutating func deliver(datagram: UnsafeRawBufferPointer, from source: UDPSource, on endpoint: UDPHandle) -> Bool {
        false
    }
}

/// Consumes nothing: all payload goes to the stack's buffers and is read later.
public struct BufferedDelivery: NetDelivery {
    public init() {}
}
