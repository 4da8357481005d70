/// How a server makes itself known to a registry (etcd) while it serves.
///
/// `RPCServer` runs `maintain(listeningOn:)` once it listens and cancels it
/// on graceful shutdown; it then calls `deregister()` *before* it stops
/// accepting and drains, so clients drop the server from their sets while
/// it still answers every call they send.
public protocol ServiceRegistration: Sendable {
    /// Registers the server and keeps it registered (lease keepalives, registering again if the
    /// registry lost it) until the task is cancelled. A registry that cannot be reached is
    /// logged and retried with backoff, never thrown: the server serves either way.
    func maintain(listeningOn address: PeerAddress) async

    /// Removes the registration at once (revokes its lease); logs, never throws, when the
    /// registry cannot be reached (the lease then lapses within its TTL).
    func deregister() async
}
