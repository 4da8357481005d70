/// What a server transport does for `RPCServer`: accept connections, cut
/// byte streams into messages for the dispatcher, write replies, and stop in
/// two steps so in-flight calls can finish.
public protocol ServerTransport: Sendable {
    /// Starts accepting and serving; returns the address it listens on.
    func listen(dispatcher: ServerDispatcher) async throws -> PeerAddress
    /// Stops accepting new connections; open ones keep running.
    func stopAccepting() async
    /// Closes every connection and releases the transport's resources.
    func close() async
}
