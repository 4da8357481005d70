import ApusThrift

/// An RPC failure that is not one of the method's declared exceptions.
///
/// The code is a struct over a private enum so codes can be added without
/// breaking anyone's `switch`. At the wire edge codes map to
/// `TApplicationException` kinds, so an Apache Thrift peer sees the error it
/// expects (`unknownMethod` → UNKNOWN_METHOD, and so on); codes Thrift has no
/// kind for travel as INTERNAL_ERROR with the code's name leading the message.
public struct RPCError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        @usableFromInline
        enum Wrapped: UInt8, Sendable {
            case unknownMethod, invalidMessageType, wrongMethodName, badSequenceID, missingResult
            case internalError, protocolError, deadlineExceeded, resourceExhausted, unavailable
            case cancelled, unknown
        }

        @usableFromInline let wrapped: Wrapped
        @inlinable init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// No method of that name is registered (TApplicationException UNKNOWN_METHOD).
        public static let unknownMethod = Code(.unknownMethod)
        /// The message type does not fit: a reply sent to a server, a call sent to a client.
        public static let invalidMessageType = Code(.invalidMessageType)
        /// A reply named a different method than the call it answers.
        public static let wrongMethodName = Code(.wrongMethodName)
        /// A reply carried a sequence id no call is waiting for.
        public static let badSequenceID = Code(.badSequenceID)
        /// A reply had neither a result nor a declared exception.
        public static let missingResult = Code(.missingResult)
        /// The handler failed with an error it did not declare.
        public static let internalError = Code(.internalError)
        /// The bytes could not be decoded (TApplicationException PROTOCOL_ERROR).
        public static let protocolError = Code(.protocolError)
        /// The call's deadline passed before it completed.
        public static let deadlineExceeded = Code(.deadlineExceeded)
        /// A concurrency or rate limit rejected the call; retry later.
        public static let resourceExhausted = Code(.resourceExhausted)
        /// No connection, connection lost, server shutting down, circuit open.
        public static let unavailable = Code(.unavailable)
        /// The caller cancelled the call.
        public static let cancelled = Code(.cancelled)
        /// A TApplicationException kind with no better match (UNKNOWN, INVALID_TRANSFORM, ...).
        public static let unknown = Code(.unknown)

        public var description: String {
            switch wrapped {
            case .unknownMethod: "unknown method"
            case .invalidMessageType: "invalid message type"
            case .wrongMethodName: "wrong method name"
            case .badSequenceID: "bad sequence id"
            case .missingResult: "missing result"
            case .internalError: "internal error"
            case .protocolError: "protocol error"
            case .deadlineExceeded: "deadline exceeded"
            case .resourceExhausted: "resource exhausted"
            case .unavailable: "unavailable"
            case .cancelled: "cancelled"
            case .unknown: "unknown"
            }
        }

        /// The `TApplicationException` kind this code travels as.
        public var applicationExceptionKind: TApplicationException.Kind {
            switch wrapped {
            case .unknownMethod: .unknownMethod
            case .invalidMessageType: .invalidMessageType
            case .wrongMethodName: .wrongMethodName
            case .badSequenceID: .badSequenceID
            case .missingResult: .missingResult
            case .protocolError: .protocolError
            case .unknown: .unknown
            case .internalError, .deadlineExceeded, .resourceExhausted, .unavailable, .cancelled: .internalError
            }
        }
    }

    public var code: Code
    public var message: String
    /// What caused it, for logs; never sent to the peer.
    public var cause: (any Error)?
    /// True when the request never left this process, so retrying it cannot
    /// run the method twice whatever its idempotency.
    public var requestWasNotSent: Bool

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil, requestWasNotSent: Bool = false) {
        self.code = code
        self.message = message
        self.cause = cause
        self.requestWasNotSent = requestWasNotSent
    }

    /// The code and the message; the cause stays out (messages say what went wrong in words,
    /// and repeating the underlying error's own text after them said it twice).
    public var description: String { "\(code): \(message)" }

    /// The exception sent to the peer. Codes Thrift lacks are named in the message
    /// so an Apache client still learns what happened.
    public var applicationException: TApplicationException {
        let kind = code.applicationExceptionKind
        if kind == .internalError && code != .internalError {
            return TApplicationException(kind, message: "\(code): \(message)")
        }
        return TApplicationException(kind, message: message)
    }

    /// The error a client raises for an exception message from the server.
    public init(_ exception: TApplicationException) {
        let code: Code
        switch exception.kind {
        case .unknownMethod: code = .unknownMethod
        case .invalidMessageType: code = .invalidMessageType
        case .wrongMethodName: code = .wrongMethodName
        case .badSequenceID: code = .badSequenceID
        case .missingResult: code = .missingResult
        case .protocolError, .invalidProtocol: code = .protocolError
        case .internalError:
            // Recover the codes we sent as INTERNAL_ERROR ("deadline exceeded: ..."); the
            // prefix becomes the code again, so the message does not say it a second time.
            let text = exception.message
            if let recovered = [Code.deadlineExceeded, .resourceExhausted, .unavailable, .cancelled]
                .first(where: { text.hasPrefix("\($0): ") }) {
                self.init(recovered, String(text.dropFirst("\(recovered): ".count)), cause: exception)
                return
            }
            code = .internalError
        default: code = .unknown
        }
        self.init(code, exception.message, cause: exception)
    }

    /// Whether the failure says something about the server or the path to it
    /// (what a circuit breaker counts), rather than about one request.
    public var isServerOrTransportFailure: Bool {
        switch code.wrapped {
        case .unavailable, .deadlineExceeded, .internalError, .resourceExhausted: true
        default: false
        }
    }
}

extension RPCError {
    @inlinable
    static func protocolError(_ error: ThriftError, while what: String) -> RPCError {
        RPCError(.protocolError, "\(what): \(error)", cause: error)
    }
}
