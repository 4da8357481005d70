/// One call in flight from `LoopExecutor.call`: how to resume its caller and how to cancel it;
/// touched on the loop's thread only.
@usableFromInline
package final class LoopCall<Reply: Sendable, Handle: LoopCallHandle>: @unchecked Sendable {
    @usableFromInline let decode: @Sendable (borrowing IncomingMessage) throws(RPCError) -> Reply
    @usableFromInline var continuation: UnsafeContinuation<Reply, any Error>?
    @usableFromInline var handle: Handle?

    @inlinable init(decode: @escaping @Sendable (borrowing IncomingMessage) throws(RPCError) -> Reply) { self.decode = decode }

    /// Resumes the caller with the reply decoded, or the error; once.
    @inlinable
    func complete(_ result: Result<IncomingMessage, RPCError>) {
        continuation?.resume(with: result, decode: decode)
        continuation = nil
        handle = nil
    }
}

/// What cancels a call a loop-run client started (on the loop's thread).
@usableFromInline
package protocol LoopCallHandle: SendableMetatype {
    func cancel()
}

/// A loop-run client that can fail one call on one of its connections.
@usableFromInline
package protocol ConnectionCallCancelling: AnyObject {
    associatedtype Connection: AnyObject
    func cancel(on connection: Connection, sequenceID: Int32, _ error: RPCError)
}

/// A call in flight on one connection of a loop-run client: cancelling it fails the call with
/// CANCELLED, and its reply, if one still comes, is dropped.
@usableFromInline
package struct ConnectionCall<Client: ConnectionCallCancelling>: LoopCallHandle {
    let client: Client
    let connection: Client.Connection
    let sequenceID: Int32
    let method: MethodDescriptor

    package init(client: Client, connection: Client.Connection, sequenceID: Int32, method: MethodDescriptor) {
        self.client = client
        self.connection = connection
        self.sequenceID = sequenceID
        self.method = method
    }

    @usableFromInline
    package func cancel() {
        client.cancel(on: connection, sequenceID: sequenceID, RPCError(.cancelled, "\(method) was cancelled by the caller"))
    }
}
