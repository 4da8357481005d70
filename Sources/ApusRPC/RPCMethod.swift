/// One method of a service as the server runs it: its descriptor, and how
/// to turn a received call into something runnable. Generated code builds
/// these; `prepare` decodes the arguments from the borrowed message (so it
/// runs synchronously, while the buffer is valid) and returns the call.
public struct RPCMethod: Sendable {
    public typealias Invocation = @Sendable (ServerContext) async throws -> ServerResponse
    public typealias Prepare = @Sendable (borrowing IncomingMessage) throws(RPCError) -> Invocation

    /// For a method whose handler reads its arguments in place: the call, over arguments the
    /// dispatcher lends from the transport's buffer.
    public typealias PrepareBorrowing = @Sendable (BorrowedArguments) -> Invocation

    public let descriptor: MethodDescriptor
    public let prepare: Prepare
    /// Set for methods made with `init(_:borrowing:)`; the dispatcher then lends the arguments
    /// instead of calling `prepare`.
    package let prepareBorrowing: PrepareBorrowing?

    public init(_ descriptor: MethodDescriptor, prepare: @escaping Prepare) {
        self.descriptor = descriptor
        self.prepare = prepare
        self.prepareBorrowing = nil
    }

    /// A method whose handler takes views of its arguments (generated with `(apus.views)`).
    /// `prepare` still works: it hands the call a copy of the arguments.
    public init(_ descriptor: MethodDescriptor, borrowing: @escaping PrepareBorrowing) {
        self.descriptor = descriptor
        self.prepareBorrowing = borrowing
        self.prepare = { (message: borrowing IncomingMessage) throws(RPCError) in
            borrowing(BorrowedArguments(copying: message.body, protocol: message.protocolID, limits: message.limits))
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
