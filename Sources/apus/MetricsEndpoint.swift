import NIOCore
import NIOHTTP1
import NIOPosix

/// `apus serve --metrics HOST:PORT`: a small HTTP/1.1 server whose `GET /metrics`
/// answers with Prometheus's text format (what `render` returns at that moment);
/// any other path is 404, any other method 405. One connection's requests are
/// answered in order; nothing else is served.
final class MetricsEndpoint: Sendable {
    let channel: any Channel

    private init(channel: any Channel) { self.channel = channel }

    /// Listens on `host:port` (0: any free port) on `group`.
    static func start(host: String, port: Int, group: any EventLoopGroup,
                      render: @escaping @Sendable () -> String) async throws -> MetricsEndpoint {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(render: render))
                }
            }
            .bind(host: host, port: port).get()
        return MetricsEndpoint(channel: channel)
    }

    /// `host:port` it listens on.
    var address: String {
        guard let address = channel.localAddress else { return "?" }
        return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }

    func close() async { try? await channel.close() }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let render: @Sendable () -> String
        private var head: HTTPRequestHead?

        init(render: @escaping @Sendable () -> String) { self.render = render }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): self.head = head
            case .body: break
            case .end:
                guard let head else { return }
                self.head = nil
                let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
                switch (head.method, path) {
                case (.GET, "/metrics"):
                    respond(context, head, .ok, render(), type: "text/plain; version=0.0.4; charset=utf-8")
                case (_, "/metrics"):
                    respond(context, head, .methodNotAllowed, "only GET /metrics\n")
                default:
                    respond(context, head, .notFound, "not found: metrics are at /metrics\n")
                }
            }
        }

        private func respond(_ context: ChannelHandlerContext, _ request: HTTPRequestHead, _ status: HTTPResponseStatus,
                             _ text: String, type: String = "text/plain; charset=utf-8") {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: type)
            headers.add(name: "Content-Length", value: String(text.utf8.count))
            if !request.isKeepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
            let keepAlive = request.isKeepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { context.close(promise: nil) }
            }
        }
    }
}
