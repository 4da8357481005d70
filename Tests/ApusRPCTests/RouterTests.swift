import ApusExamples
import ApusRPC
import ApusThrift
import Testing

@Suite struct RouterTests {
    @Test func plainAndMultiplexedNamesReachTheSameMethod() {
        let router = exampleRouter()
        #expect(router.route(named: "echo")?.method.descriptor == Echo.Method.echo)
        #expect(router.route(named: "Echo:echo")?.method.descriptor == Echo.Method.echo)
        #expect(router.route(named: "KV:get")?.method.descriptor == KV.Method.get)
        #expect(router.route(named: "get")?.method.descriptor == KV.Method.get)
    }

    @Test func unknownNamesAndWrongServicePrefixesFindNothing() {
        let router = exampleRouter()
        #expect(router.route(named: "noSuchMethod") == nil)
        #expect(router.route(named: "KV:echo") == nil)
        #expect(router.route(named: "Echo:") == nil)
        #expect(router.route(named: "") == nil)
    }

    @Test func listsEveryMethodOfEveryService() {
        let router = exampleRouter()
        #expect(router.services == ["Echo", "KV"])
        #expect(router.methods.count == Echo.Method.all.count + KV.Method.all.count)
    }

    @Test func aSharedPlainNameStaysWithTheFirstServiceAndTheOtherIsReachableMultiplexed() {
        var router = Router()
        router.register(Echo.service(EchoHandler()))
        let other = ServiceDefinition(name: "Other", methods: [
            RPCMethod(MethodDescriptor(service: "Other", method: "echo")) { (_: borrowing IncomingMessage) throws(RPCError) in
                { _ in .none }
            },
        ])
        router.register(other)
        #expect(router.route(named: "echo")?.method.descriptor.service == "Echo")
        #expect(router.route(named: "Other:echo")?.method.descriptor.service == "Other")
    }

    @Test func middlewareOrderIsServerThenServiceThenMethod() async throws {
        let order = Recorder()
        var router = Router()
        router.register(Echo.service(EchoHandler()), middleware: Tag(name: "service", recorder: order))
        router.intercept(service: "Echo", method: "echo", with: Tag(name: "method", recorder: order))
        let chain = router.layer(Tag(name: "server-inner", recorder: order)).layer(Tag(name: "server-outer", recorder: order))
        let dispatcher = ServerDispatcher(router: router, handler: chain, logger: ServerContext.silentLogger)
        let sink = CollectingSink()
        dispatch(dispatcher, callBytes("echo", Echo.EchoArgs(message: "hi")), sink: sink)
        _ = await sink.waitFor(1)
        #expect(order.names == ["server-outer", "server-inner", "service", "method"])

        // Another method of the service gets the service layer but not echo's.
        order.clear()
        dispatch(dispatcher, callBytes("ping", Echo.PingArgs()), sink: sink)
        _ = await sink.waitFor(2)
        #expect(order.names == ["server-outer", "server-inner", "service"])
    }

    /// The dispatcher calls a route's method directly only when nothing would run in between:
    /// a router, behind layers of absent (`OptionalMiddleware(nil)`) middleware at most.
    @Test func onlyRoutersAndAbsentMiddlewareForwardStraightToRoutes() {
        let order = Recorder()
        let router = exampleRouter()
        #expect(router.forwardsToRoutes)
        #expect(router.layer(OptionalMiddleware<Tag>(nil)).layer(OptionalMiddleware<Tag>(nil)).forwardsToRoutes)
        #expect(!router.layer(Tag(name: "server", recorder: order)).forwardsToRoutes)
        #expect(!router.layer(OptionalMiddleware(Tag(name: "server", recorder: order))).forwardsToRoutes)
        #expect(!router.layer(OptionalMiddleware<Tag>(nil)).layer(Tag(name: "outer", recorder: order)).forwardsToRoutes)
        #expect(!PassThrough(base: router).forwardsToRoutes, "a handler type of its own is never skipped")
    }

    @Test func absentServerMiddlewareStillLetsServiceAndMethodLayersRun() async throws {
        let order = Recorder()
        var router = Router()
        router.register(Echo.service(EchoHandler()))
        router.register(KV.service(InMemoryKV()), middleware: Tag(name: "kv", recorder: order))
        router.intercept(service: "Echo", method: "echo", with: Tag(name: "echo", recorder: order))
        let chain = router.layer(OptionalMiddleware<Tag>(nil)).layer(OptionalMiddleware<Tag>(nil))
        let dispatcher = ServerDispatcher(router: router, handler: chain, logger: ServerContext.silentLogger)
        let sink = CollectingSink()
        dispatch(dispatcher, callBytes("echo", Echo.EchoArgs(message: "hi")), sink: sink)
        dispatch(dispatcher, callBytes("ping", Echo.PingArgs()), sink: sink)
        dispatch(dispatcher, callBytes("get", KV.GetArgs(key: "k")), sink: sink)
        let replies = await sink.waitFor(3)
        #expect(replies.count == 3)
        #expect(order.names == ["echo", "kv"], "the layered routes ran their middleware; ping, bare, ran directly")
    }
}

/// A handler that adds nothing, but does not say so.
struct PassThrough<Base: RPCHandler>: RPCHandler {
    let base: Base
    func handle(_ request: ServerRequest, context: ServerContext) async throws -> ServerResponse {
        try await base.handle(request, context: context)
    }
}

final class Recorder: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ name: String) { storage.withLock { $0.append(name) } }
    func clear() { storage.withLock { $0 = [] } }
    var names: [String] { storage.withLock { $0 } }
}

struct Tag: RPCMiddleware {
    let name: String
    let recorder: Recorder

    func intercept<Next: RPCHandler>(_ request: ServerRequest, context: ServerContext, next: Next) async throws -> ServerResponse {
        recorder.append(name)
        return try await next.handle(request, context: context)
    }
}

import Synchronization
