/// A port in LISTEN (RFC 9293 §3.10.1 passive OPEN) on every owned address.
struct TCPListener {
    let port: UInt16
    /// Most connections held in SYN-RECEIVED at once; past it SYNs get cookies (or are dropped).
    let backlog: Int
    /// Connections of this listener now in SYN-RECEIVED.
    var halfOpen = 0
    /// Until when an ACK may complete a connection from a SYN cookie: cookies went out
    /// recently (the backlog or the table was full). Outside cookie mode a bare ACK is never
    /// taken as a cookie, so a forged one cannot open a connection (as Linux's
    /// `tcp_synq_no_recent_overflow`).
    var cookieModeUntil = NetInstant.zero
}
