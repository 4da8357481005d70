/// An AF_XDP socket handed from the thread that made it to the thread that runs it
/// (a `~Copyable` value cannot be captured by the thread's escaping closure).
public final class XSKSocketBox: @unchecked Sendable {
    public let queue: UInt32
    public let description: String
    private var socket: XSKSocket?

    public init(_ socket: consuming XSKSocket, description: String = "") {
        self.queue = socket.queue
        self.description = description
        self.socket = consume socket
    }

    /// Moves the socket out; once only.
    public func take() -> XSKSocket {
        guard let socket = socket.take() else { preconditionFailure("XSKSocketBox for queue \(queue) taken twice") }
        return socket
    }
}
