import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A tiny HTTP/1.1 upstream on `127.0.0.1:0`: every request gets `200` with the body
/// `upstream=<name> proto=<X-Forwarded-Proto> uri=<uri>`, so a test sees which upstream answered
/// and which scheme the edge forwarded. A path ending in `/slow` answers after `?ms=N` milliseconds.
/// `X-Test-Body-Bytes` says how many request body bytes arrived.
final class TLSTestUpstream: Sendable {
    let name: String
    let port: Int
    private let channel: any Channel
    private let counter: TLSTestCounter

    private init(name: String, port: Int, channel: any Channel, counter: TLSTestCounter) {
        self.name = name
        self.port = port
        self.channel = channel
        self.counter = counter
    }

    static func start(name: String) async throws -> TLSTestUpstream {
        let counter = TLSTestCounter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(TLSTestUpstreamHandler(name: name, counter: counter))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get(within: .seconds(5), "the test upstream to bind")
        guard let port = channel.localAddress?.port else {
            try? await channel.close()
            throw TLSTestFailure("the test upstream has no port")
        }
        return TLSTestUpstream(name: name, port: port, channel: channel, counter: counter)
    }

    var address: String { "127.0.0.1:\(port)" }

    /// Request heads received so far.
    var requestsReceived: Int { counter.value.load(ordering: .relaxed) }

    func stop() async {
        try? await channel.close().get(within: .seconds(5), "the test upstream to close")
    }

    /// The body this upstream answers a request with.
    static func body(name: String, forwardedProto: String, uri: String) -> String {
        "upstream=\(name) proto=\(forwardedProto) uri=\(uri)"
    }
}

final class TLSTestCounter: Sendable {
    let value = Atomic<Int>(0)
}

final class TLSTestUpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let name: String
    private let counter: TLSTestCounter
    private var head: HTTPRequestHead?
    private var bodyBytes = 0

    init(name: String, counter: TLSTestCounter) {
        self.name = name
        self.counter = counter
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            bodyBytes = 0
            counter.value.add(1, ordering: .relaxed)
        case .body(let part):
            bodyBytes += part.readableBytes
        case .end:
            guard let head else { return }
            self.head = nil
            let bodyBytes = self.bodyBytes
            let path = head.uri.prefix { $0 != "?" }
            if path.hasSuffix("/slow") {
                let milliseconds = head.uri.split(separator: "ms=").last.flatMap { Int64($0) } ?? 500
                let bound = context.loopBound
                context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(milliseconds)) { [self] in
                    let context = bound.value
                    guard context.channel.isActive else { return }
                    respond(to: head, bodyBytes: bodyBytes, context: context)
                }
            } else {
                respond(to: head, bodyBytes: bodyBytes, context: context)
            }
        }
    }

    private func respond(to head: HTTPRequestHead, bodyBytes: Int, context: ChannelHandlerContext) {
        let proto = head.headers["x-forwarded-proto"].joined(separator: ",")
        let buffer = context.channel.allocator.buffer(
            string: TLSTestUpstream.body(name: name, forwardedProto: proto, uri: head.uri))
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain")
        headers.add(name: "Content-Length", value: String(buffer.readableBytes))
        headers.add(name: "X-Test-Upstream", value: name)
        headers.add(name: "X-Test-Body-Bytes", value: String(bodyBytes))
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !head.isKeepAlive {
            let bound = context.loopBound
            written.whenComplete { _ in bound.value.close(promise: nil) }
        }
    }
}
