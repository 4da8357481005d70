/// A port in LISTEN (RFC 9293 §3.10.1 passive OPEN) on every owned address.
struct TCPListener {
    let port: UInt16
    /// Most connections held in SYN-RECEIVED at once; past it SYNs get cookies (or are dropped).
    let backlog: Int
    /// Connections of this listener now in SYN-RECEIVED.
    var halfOpen = 0
}
