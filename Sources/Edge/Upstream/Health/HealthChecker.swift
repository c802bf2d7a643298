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

/// Sends the probe request and reports whether the status is a success. The response is read
/// by the proxy's own ``UpstreamResponseParser``: a server whose answers the proxy would refuse
/// (malformed head, conflicting framing) fails its probe too, instead of passing through a
/// more lenient parser and being sent traffic it cannot serve.
private final class ProbeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let host: String
    let path: String
    let promise: EventLoopPromise<Bool>
    private var parser = UpstreamResponseParser()
    private var received: ByteBuffer?

    init(host: String, path: String, promise: EventLoopPromise<Bool>) {
        self.host = host
        self.path = path
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        parser.requestSent(method: .GET)
        let request = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: homerack-edge-health-check\r\nConnection: close\r\n\r\n"
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: request)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var earlier = received {
            earlier.writeBuffer(&buffer)
            buffer = earlier
        }
        do {
            while let event = try parser.next(&buffer) {
                if case .head(let head) = event {
                    promise.succeed((200..<400).contains(Int(head.status.code)))
                    context.close(promise: nil)
                    return
                }
            }
            received = buffer.readableBytes > 0 ? buffer : nil
        } catch {
            promise.succeed(false)
            context.close(promise: nil)
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
