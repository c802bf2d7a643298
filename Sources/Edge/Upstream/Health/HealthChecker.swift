import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Active health checks for one upstream pool: every `interval`, a `GET` of the configured path
/// on each server over a new connection; a 2xx or 3xx within `timeout` is a success. The results
/// drive ``ServerHealth/probed(healthy:)``, so `fall` failures take a server out and `rise`
/// successes bring it back, without a client request ever paying for the discovery.
final class HealthChecker: Sendable {
    private let cluster: Cluster
    private let config: HealthCheckConfig
    private let eventLoop: any EventLoop
    private let logger: EdgeLogger
    private let task: Mutex<RepeatedTask?> = Mutex(nil)

    init(cluster: Cluster, config: HealthCheckConfig, eventLoop: any EventLoop, logger: EdgeLogger) {
        self.cluster = cluster
        self.config = config
        self.eventLoop = eventLoop
        self.logger = logger
    }

    func start() {
        let interval = TimeAmount(config.interval)
        let repeated = eventLoop.scheduleRepeatedAsyncTask(initialDelay: .zero, delay: interval) { [self] _ in
            let probes = cluster.servers.map { server in
                probe(server).map { healthy in
                    if server.health.withLock({ $0.probed(healthy: healthy) }) {
                        self.logger.warning(
                            healthy ? "upstream server is back" : "upstream server failed its health checks",
                            [("edge.upstream", self.cluster.name), ("edge.server", server.addressText)])
                    }
                }
            }
            return EventLoopFuture.andAllComplete(probes, on: eventLoop)
        }
        task.withLock { $0 = repeated }
    }

    func stop() {
        task.withLock { task in
            task?.cancel()
            task = nil
        }
    }

    /// One probe: `true` for a 2xx/3xx response head in time, `false` for anything else.
    private func probe(_ server: UpstreamServer) -> EventLoopFuture<Bool> {
        let promise = eventLoop.makePromise(of: Bool.self)
        let timeout = TimeAmount(config.timeout)
        let host = server.addressText
        let path = config.path
        let deadline = eventLoop.scheduleTask(in: timeout) { promise.succeed(false) }
        ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ProbeHandler(host: host, path: path, promise: promise))
                }
            }
            .connect(to: server.address)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                case .failure:
                    promise.succeed(false)
                }
            }
        return promise.futureResult.always { _ in deadline.cancel() }
    }
}

/// Sends the probe request and reports whether the status is a success.
private final class ProbeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let host: String
    let path: String
    let promise: EventLoopPromise<Bool>

    init(host: String, path: String, promise: EventLoopPromise<Bool>) {
        self.host = host
        self.path = path
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders([("Host", host), ("User-Agent", "homerack-edge-health-check")])
        headers.setKeepAlive(false)
        context.write(wrapOutboundOut(.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            promise.succeed((200..<400).contains(Int(head.status.code)))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.succeed(false)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.succeed(false)
        context.close(promise: nil)
    }
}
