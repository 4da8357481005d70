/// A port in LISTEN (RFC 9293 §3.10.1 passive OPEN) on every owned address.
struct TCPListener {
    let port: UInt16
    /// Most connections held in SYN-RECEIVED at once; past it SYNs get cookies (or are dropped).
    let backlog: Int
    /// Connections of this listener now in SYN-RECEIVED.
    var halfOpen = 0
    /// Until when the listener counts as overflowing: the backlog, table or budget was full
    /// recently. Then an ACK may complete a connection from a SYN cookie (outside it a bare ACK
    /// is never taken as a cookie, so a forged one cannot open a connection, as Linux's
    /// `tcp_synq_no_recent_overflow`), and half-open connections give up after one SYN,ACK
    /// retransmission so a flood cannot hold the backlog.
    var overflowedUntil = NetInstant.zero
}
