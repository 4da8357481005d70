import ApusThrift
import Synchronization

/// A call's arguments left in the transport's buffer, for an inline method (`RPCMethod.inline`)
/// that has middleware around it. The dispatcher lends the buffer while the call runs inline;
/// if the call has not reached its handler when the transport takes the buffer back (a
/// middleware suspended first), the bytes are copied once so the handler still reads what
/// arrived. The message is valid only inside `withMessage`: views decoded from it (`apus.views`)
/// must not outlive it, which is why such handlers are synchronous.
package final class BorrowedArguments: @unchecked Sendable {
    /// Sendable: the lent memory is only read under the lock, and only until `end()`.
    private enum Bytes: @unchecked Sendable {
        case borrowed(UnsafeRawBufferPointer)
        case owned([UInt8])
        case consumed
    }

    private let bytes: Mutex<Bytes>
    let protocolID: ThriftProtocolID
    let limits: ThriftLimits

    /// Lends `body`: the caller must call `end()` before the memory is reused.
    package init(borrowing body: UnsafeRawBufferPointer, protocol protocolID: ThriftProtocolID, limits: ThriftLimits) {
        bytes = Mutex(.borrowed(body))
        self.protocolID = protocolID
        self.limits = limits
    }

    /// Arguments that own a copy of `body` (a method prepared outside a dispatcher's call).
    init(copying body: UnsafeRawBufferPointer, protocol protocolID: ThriftProtocolID, limits: ThriftLimits) {
        bytes = Mutex(.owned(Array(body)))
        self.protocolID = protocolID
        self.limits = limits
    }

    /// The lender takes its memory back: the bytes are copied unless the handler already ran.
    package func end() {
        bytes.withLock { bytes in
            if case .borrowed(let body) = bytes { bytes = .owned(Array(body)) }
        }
    }

    /// Runs `body` with the arguments as a message; once only.
    func withMessage(_ body: (borrowing IncomingMessage) throws -> ServerResponse) throws -> ServerResponse {
        try bytes.withLock { bytes throws -> ServerResponse in
            defer { bytes = .consumed }
            switch bytes {
            case .borrowed(let buffer):
                return try body(message(in: buffer))
            case .owned(let array):
                return try array.withUnsafeBytes { buffer throws -> ServerResponse in try body(message(in: buffer)) }
            case .consumed:
                throw RPCError(.internalError, "arguments of one call read twice")
            }
        }
    }

    private func message(in buffer: UnsafeRawBufferPointer) -> IncomingMessage {
        IncomingMessage(header: MessageHeader(name: .empty, type: .call, sequenceID: 0), protocolID: protocolID, body: buffer,
                        limits: limits)
    }
}
