/// One method of a service as the server runs it: its descriptor, and how
/// to turn a received call into something runnable. Generated code builds
/// these; `prepare` decodes the arguments from the borrowed message (so it
/// runs synchronously, while the buffer is valid) and returns the call.
public struct RPCMethod: Sendable {
    public typealias Invocation = @Sendable (ServerContext) async throws -> ServerResponse
    public typealias Prepare = @Sendable (borrowing IncomingMessage) throws(RPCError) -> Invocation

    public let descriptor: MethodDescriptor
    public let prepare: Prepare

    public init(_ descriptor: MethodDescriptor, prepare: @escaping Prepare) {
        self.descriptor = descriptor
        self.prepare = prepare
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
