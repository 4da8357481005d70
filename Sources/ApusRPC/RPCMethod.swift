/// One method of a service as the server runs it: its descriptor, and how
/// to turn a received call into something runnable. Generated code builds
/// these; `prepare` decodes the arguments from the borrowed message (so it
/// runs synchronously, while the buffer is valid) and returns the call.
public struct RPCMethod: Sendable {
    public typealias Invocation = @Sendable (ServerContext) async throws -> ServerResponse
    public typealias Prepare = @Sendable (borrowing IncomingMessage) throws(RPCError) -> Invocation

    /// A whole call of a method whose handler never suspends: decode the arguments from the
    /// borrowed message, run the handler, return its answer. Undecodable arguments throw `RPCError`.
    public typealias Inline = @Sendable (borrowing IncomingMessage, ServerContext) throws -> ServerResponse

    /// An inline method's call over arguments the dispatcher lends from the transport's buffer,
    /// for when middleware stands between the call and its handler.
    package typealias PrepareBorrowing = @Sendable (BorrowedArguments) -> Invocation

    public let descriptor: MethodDescriptor
    public let prepare: Prepare
    /// Set for methods made with `init(_:inline:)`: with no middleware in the way the dispatcher
    /// runs the call on the transport's thread as the request is read, with no task.
    package let inline: Inline?
    /// Set with `inline`: the call with middleware around it, over lent arguments.
    package let prepareBorrowing: PrepareBorrowing?

    public init(_ descriptor: MethodDescriptor, prepare: @escaping Prepare) {
        self.descriptor = descriptor
        self.prepare = prepare
        self.inline = nil
        self.prepareBorrowing = nil
    }

    /// A method whose handler is synchronous (a `SyncServiceProtocol` handler's, or one generated
    /// with `(apus.views)`, whose arguments are views valid only while the request's bytes are).
    /// `prepare` still works: it hands the call a copy of the arguments.
    public init(_ descriptor: MethodDescriptor, inline: @escaping Inline) {
        self.descriptor = descriptor
        self.inline = inline
        let prepareBorrowing: PrepareBorrowing = { arguments in
            { context in try arguments.withMessage { message in try inline(message, context) } }
        }
        self.prepareBorrowing = prepareBorrowing
        self.prepare = { (message: borrowing IncomingMessage) throws(RPCError) in
            prepareBorrowing(BorrowedArguments(copying: message.body, protocol: message.protocolID, limits: message.limits))
        }
    }
}

/// A service's methods, ready to register with a `Router`.
/// Generated code makes one with `Echo.service(handler)`.
public struct ServiceDefinition: Sendable {
    public let name: String
    public let methods: [RPCMethod]

    public init(name: String, methods: [RPCMethod]) {
        self.name = name
        self.methods = methods
    }
}
