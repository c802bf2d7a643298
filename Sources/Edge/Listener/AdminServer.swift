import NIOCore
import NIOHTTP1
import NIOPosix

/// The admin listener: `GET /metrics` in Prometheus text format, and nothing else.
/// It listens on loopback by default, apart from client traffic, so metrics are never public.
enum AdminServer {
    static func bootstrap(group: MultiThreadedEventLoopGroup, state: EdgeState) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(AdminHandler(state: state))
                }
            }
    }
}

final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: EdgeState
    private var head: HTTPRequestHead?

    init(state: EdgeState) { self.state = state }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            let path = head.uri.prefix { $0 != "?" }
            let (status, body, type): (HTTPResponseStatus, String, String)
            if path == "/metrics" && (head.method == .GET || head.method == .HEAD) {
                let runtime = state.runtime
                (status, body, type) = (
                    .ok, state.metrics.render(clusters: runtime.clusters, now: MonotonicClock().now()),
                    "text/plain; version=0.0.4; charset=utf-8"
                )
            } else {
                (status, body, type) = (.notFound, "only GET /metrics is served here\n", "text/plain")
            }
            let buffer = context.channel.allocator.buffer(string: body)
            var headers = HTTPHeaders([("Content-Type", type), ("Content-Length", String(buffer.readableBytes))])
            headers.add(name: "Cache-Control", value: "no-store")
            headers.setKeepAlive(head.isKeepAlive)
            let response = HTTPResponseHead(version: head.version, status: status, headers: headers)
            context.write(wrapOutboundOut(.head(response)), promise: nil)
            if head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil) }
            let keepAlive = head.isKeepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                if !keepAlive { context.close(promise: nil) }
            }
        }
    }
}
