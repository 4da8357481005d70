import ApusNet
import ApusRPC
import ApusThrift

/// One TCP connection carrying Thrift messages, owned by its queue's thread.
///
/// Received bytes are cut into messages straight from the UMEM frame; only
/// a message that spans segments is copied, once, into `partial`. Replies and
/// requests are encoded straight into ApusNet's send buffer; `unsent` holds
/// what did not fit, and while it holds anything the connection reads no more
/// requests (its receive window closes instead: back pressure to the peer).
final class XDPConnection {
    /// nil for a client connection not (yet, or any more) open.
    var handle: TCPHandle?
    var state: ConnectionState
    var framer: MessageFramer
    /// Framing of what we send: the requests' (server, sniffed) or the configured one (client).
    var framing: ThriftFraming
    var partial = ByteQueue()
    /// The full size of the message in `partial`, when its frame header said.
    var expectedTotal: Int?
    /// When bytes last arrived (for the read timeout).
    var lastInput = NetInstant.zero
    var unsent = ByteQueue()
    /// Set when the stream can no longer be trusted; the loop resets the connection.
    var failure: String?
    /// The peer sent FIN; the server closes once its replies are out.
    var peerFinished = false
    var closeRequested = false
    /// Server: where the dispatcher sends replies.
    var sink: XDPResponseSink?

    // Client side.
    var established = false
    var nextSequenceID: Int32 = 0
    var pending: [Int32: PendingCall] = [:]
    /// Requests made before the connection was established.
    var waiting: [OutboxEntry] = []

    init(handle: TCPHandle?, state: ConnectionState, framer: MessageFramer, framing: ThriftFraming) {
        self.handle = handle
        self.state = state
        self.framer = framer
        self.framing = framing
    }

    /// Replies wait in `unsent`: read nothing more until they are out.
    var isBlocked: Bool { !unsent.isEmpty }
}

/// A client call waiting for its reply.
struct PendingCall {
    var method: MethodDescriptor
    var deadline: NetInstant
    /// Decodes the reply (on the queue's thread, while its bytes are valid) and resumes the caller.
    var complete: (Result<IncomingMessage, RPCError>) -> Void
}

/// A message to write to a connection at the loop's next output step.
struct OutboxEntry {
    var connection: XDPConnection
    var message: OutgoingMessage
    var protocolID: ThriftProtocolID
}

/// Where the dispatcher delivers one server connection's replies. Replies
/// made on the queue's thread (all of them, unless a handler moved itself
/// elsewhere) are queued for the loop's output step without a lock.
final class XDPResponseSink: ResponseSink, @unchecked Sendable {
    // Strong: a call may outlive its connection; the loop breaks the cycle when the connection closes.
    let engine: QueueEngine
    let connection: XDPConnection

    init(engine: QueueEngine, connection: XDPConnection) {
        self.engine = engine
        self.connection = connection
    }

    func send(_ message: OutgoingMessage, protocol protocolID: ThriftProtocolID) {
        let entry = OutboxEntry(connection: connection, message: message, protocolID: protocolID)
        if engine.executor.isCurrent {
            engine.outbox.append(entry)
        } else {
            let engine = self.engine
            nonisolated(unsafe) let entry = entry
            engine.executor.execute { engine.outbox.append(entry) }
        }
    }
}
