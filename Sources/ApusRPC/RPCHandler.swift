/// A decoded call on its way to a handler: which method, and how to run it.
/// The arguments were decoded from the transport's buffer already; `invoke`
/// holds them, so middleware never needs the request's type.
public struct ServerRequest: Sendable {
    public let method: MethodDescriptor
    @usableFromInline let route: Route
    @usableFromInline let invocation: RPCMethod.Invocation

    @inlinable
    init(route: Route, invocation: @escaping RPCMethod.Invocation) {
        self.method = route.method.descriptor
        self.route = route
        self.invocation = invocation
    }
}

/// A handler's answer: a result struct to send, or nothing for oneway calls.
public struct ServerResponse: Sendable {
    public var body: (any ThriftMessageBody)?

    @inlinable public init(body: (any ThriftMessageBody)?) { self.body = body }

    /// The response of a oneway call.
    public static let none = ServerResponse(body: nil)
}

/// Something that answers calls: the router, a middleware wrapping it, a
/// method's handler (motore's `Service`).
public protocol RPCHandler: Sendable {
    func handle(_ request: ServerRequest, context: ServerContext) async throws -> ServerResponse

    /// True when this handler adds nothing on the way to a route's own handler (a router, a
    /// layer of middleware that is absent): the dispatcher then calls a route without layers of
    /// its own directly, and skips the hops through this chain. False unless a type says so.
    var forwardsToRoutes: Bool { get }
}

extension RPCHandler {
    public var forwardsToRoutes: Bool { false }
}

/// Middleware sees each call with its context and decides whether and how
/// to pass it to `next`. Composition is static: `Layered<Middleware, Next>`
/// is a concrete type, so a chain of layers specializes into straight-line
/// code with no boxing (the Swift shape of motore's Layer + Service pairs:
/// the middleware value is the layer, `Layered` the service it builds).
public protocol RPCMiddleware: Sendable {
    func intercept<Next: RPCHandler>(_ request: ServerRequest, context: ServerContext, next: Next) async throws -> ServerResponse

    /// True when this middleware passes every call to `next` unchanged (a configured-off
    /// `OptionalMiddleware`), so a chain of such layers may be skipped. False unless a type says so.
    var passesCallsThrough: Bool { get }
}

extension RPCMiddleware {
    public var passesCallsThrough: Bool { false }
}

/// `middleware` around `next`.
public struct Layered<Middleware: RPCMiddleware, Next: RPCHandler>: RPCHandler {
    public let middleware: Middleware
    public let next: Next

    @inlinable
    public init(_ middleware: Middleware, around next: Next) {
        self.middleware = middleware
        self.next = next
    }

    @inlinable
    public func handle(_ request: ServerRequest, context: ServerContext) async throws -> ServerResponse {
        try await middleware.intercept(request, context: context, next: next)
    }

    public var forwardsToRoutes: Bool { middleware.passesCallsThrough && next.forwardsToRoutes }
}

extension RPCHandler {
    /// Wraps this handler in `middleware`. Each call adds an outer layer, so
    /// `router.layer(a).layer(b)` runs b, then a, then the router.
    @inlinable
    public func layer<M: RPCMiddleware>(_ middleware: M) -> Layered<M, Self> {
        Layered(middleware, around: self)
    }
}

/// The innermost handler of every route: runs the method with its decoded arguments.
@usableFromInline
package struct InvokeMethod: RPCHandler {
    @inlinable public init() {}

    @inlinable
    public func handle(_ request: ServerRequest, context: ServerContext) async throws -> ServerResponse {
        try await request.invocation(context)
    }
}

/// A middleware that may be absent (configured off): passes calls straight
/// through when nil, so optional layers keep one static chain type.
public struct OptionalMiddleware<Wrapped: RPCMiddleware>: RPCMiddleware {
    public let wrapped: Wrapped?

    @inlinable public init(_ wrapped: Wrapped?) { self.wrapped = wrapped }

    public var passesCallsThrough: Bool { wrapped?.passesCallsThrough ?? true }

    @inlinable
    public func intercept<Next: RPCHandler>(_ request: ServerRequest, context: ServerContext, next: Next) async throws -> ServerResponse {
        guard let wrapped else { return try await next.handle(request, context: context) }
        return try await wrapped.intercept(request, context: context, next: next)
    }
}
