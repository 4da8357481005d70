import ApusThrift

/// A registered method with the middleware registered for its service or for it alone.
@usableFromInline
package final class Route: Sendable {
    @usableFromInline package let method: RPCMethod
    @usableFromInline let handler: any RPCHandler
    typealias Wrap = @Sendable (any RPCHandler) -> any RPCHandler
    let serviceLayer: Wrap
    let methodLayers: [Wrap]

    init(method: RPCMethod, serviceLayer: @escaping Wrap, methodLayers: [Wrap] = []) {
        self.method = method
        self.serviceLayer = serviceLayer
        self.methodLayers = methodLayers
        // Handler order: service layer, then method layers (latest outermost), then the method.
        self.handler = serviceLayer(methodLayers.reduce(InvokeMethod() as any RPCHandler) { inner, wrap in wrap(inner) })
        self.isBare = handler is InvokeMethod
    }

    /// No middleware of its own: its handler only runs the method.
    let isBare: Bool

    func addingMethodLayer(_ wrap: @escaping Wrap) -> Route {
        Route(method: method, serviceLayer: serviceLayer, methodLayers: methodLayers + [wrap])
    }
}

/// Finds the method a message names and hands calls to it.
///
/// Each method answers to its plain name (`echo`) and to its multiplexed name
/// (`Echo:echo`, as Apache's TMultiplexedProtocol sends), so one server hosts
/// several services on one port for plain and multiplexed clients alike. When
/// two services share a plain name, the first registered keeps it and the
/// other is reachable by its multiplexed name only.
///
/// Middleware registers at three levels: the whole server (wrap the router,
/// see `RPCServer`), one service (`register(_:middleware:)`) or one method
/// (`intercept(service:method:with:)`). Per-service and per-method layers sit
/// inside the server's, nearest the handler.
public struct Router: RPCHandler {
    private var routes: [String: Route] = [:]
    private var multiplexed: [String: Route] = [:]
    public private(set) var services: [String] = []

    public init() {}

    /// Registers every method of `service`.
    public mutating func register(_ service: ServiceDefinition) {
        register(service, wrap: { $0 })
    }

    /// Registers every method of `service` behind `middleware`.
    public mutating func register<M: RPCMiddleware>(_ service: ServiceDefinition, middleware: M) {
        register(service, wrap: { Layered(middleware, around: AnyHandler($0)) })
    }

    private mutating func register(_ service: ServiceDefinition, wrap: @escaping Route.Wrap) {
        precondition(!services.contains(service.name), "service \(service.name) is registered twice")
        services.append(service.name)
        for method in service.methods {
            let route = Route(method: method, serviceLayer: wrap)
            multiplexed[method.descriptor.multiplexedName] = route
            if routes[method.descriptor.method] == nil { routes[method.descriptor.method] = route }
        }
    }

    /// Puts `middleware` around one method: inside its service's layer, outside
    /// layers added earlier for the same method.
    public mutating func intercept<M: RPCMiddleware>(service: String, method: String, with middleware: M) {
        let key = "\(service):\(method)"
        guard let old = multiplexed[key] else {
            preconditionFailure("intercept: no method \(key) is registered (register the service first)")
        }
        let route = old.addingMethodLayer { Layered(middleware, around: AnyHandler($0)) }
        multiplexed[key] = route
        if routes[method] === old { routes[method] = route }
    }

    /// The route for a message name, plain or `Service:method`.
    @inlinable
    package func route(named name: BytesView) -> Route? {
        route(named: name.string)
    }

    @usableFromInline package func route(named name: String) -> Route? {
        routes[name] ?? multiplexed[name]
    }

    /// Every registered method, by multiplexed name.
    public var methods: [MethodDescriptor] {
        multiplexed.values.map(\.method.descriptor).sorted { $0.multiplexedName < $1.multiplexedName }
    }

    @inlinable
    public func handle(_ request: ServerRequest, context: ServerContext) async throws -> ServerResponse {
        try await request.route.handler.handle(request, context: context)
    }

    /// A router hands each call to its route, adding nothing.
    public var forwardsToRoutes: Bool { true }
}

/// A handler behind an existential, so differently layered routes share one table.
@usableFromInline
package struct AnyHandler: RPCHandler {
    @usableFromInline let base: any RPCHandler

    @inlinable public init(_ base: any RPCHandler) { self.base = base }

    @inlinable
    public func handle(_ request: ServerRequest, context: ServerContext) async throws -> ServerResponse {
        try await base.handle(request, context: context)
    }

    public var forwardsToRoutes: Bool { base.forwardsToRoutes }
}
