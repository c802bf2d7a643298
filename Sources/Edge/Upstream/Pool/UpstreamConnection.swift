import NIOCore
import NIOHTTP1

/// Receives what one upstream exchange produces. The client side of a proxied request implements
/// it; all calls arrive on the event loop both channels share.
protocol UpstreamExchangeDelegate: AnyObject {
    func upstreamResponseHead(_ head: HTTPResponseHead)
    func upstreamResponseBody(_ body: ByteBuffer)
    func upstreamResponseEnd()
    /// The exchange ended without a complete response (closed, reset, parse error).
    func upstreamExchangeFailed(_ error: any Error)
    /// The upstream channel can (or cannot) take more request body now.
    func upstreamWritabilityChanged(isWritable: Bool)
    /// A read from the upstream finished: a good moment to flush to the client.
    func upstreamReadComplete()
}

/// The last handler of an upstream connection's pipeline: routes response parts to the request
/// currently using the connection, and holds reads back while the client cannot keep up.
final class UpstreamConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// The request using the connection; `nil` while it is idle in the pool.
    weak var delegate: (any UpstreamExchangeDelegate)?
    /// Called once when the channel closes, so the pool forgets it.
    var onClose: (() -> Void)?
    private var readsPaused = false
    private var readPending = false
    private(set) var isClosed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        guard let delegate else {
            // Bytes on an idle connection: the server is out of step; drop the connection.
            context.close(promise: nil)
            return
        }
        switch part {
        case .head(let head): delegate.upstreamResponseHead(head)
        case .body(let body): delegate.upstreamResponseBody(body)
        case .end: delegate.upstreamResponseEnd()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        let delegate = self.delegate
        self.delegate = nil
        onClose?()
        onClose = nil
        delegate?.upstreamExchangeFailed(ChannelError.ioOnClosedChannel)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let delegate = self.delegate
        self.delegate = nil
        delegate?.upstreamExchangeFailed(error)
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if readsPaused {
            readPending = true
        } else {
            context.read()
        }
    }

    /// Stops (or resumes) reading from the upstream: backpressure from a slow client.
    func setReadsPaused(_ paused: Bool, context: ChannelHandlerContext) {
        readsPaused = paused
        if !paused, readPending {
            readPending = false
            context.read()
        }
    }
}

/// A keep-alive HTTP/1.1 connection to one upstream server, confined to one event loop.
final class UpstreamConnection {
    let channel: any Channel
    let handler: UpstreamConnectionHandler
    let handlerContext: ChannelHandlerContext
    /// The server's ``PoolKey``.
    let key: Int
    /// Requests this connection has carried (0 before the first).
    var requestsServed = 0
    /// When it went idle, for the pool's idle timeout.
    var idleSince: NIODeadline = .now()

    init(channel: any Channel, handler: UpstreamConnectionHandler, context: ChannelHandlerContext, key: Int) {
        self.channel = channel
        self.handler = handler
        self.handlerContext = context
        self.key = key
    }

    var isUsable: Bool { channel.isActive && !handler.isClosed }

    func write(_ part: HTTPClientRequestPart, promise: EventLoopPromise<Void>? = nil) {
        handlerContext.write(handler.wrapOutboundOut(part), promise: promise)
    }

    func flush() { handlerContext.flush() }

    func setReadsPaused(_ paused: Bool) { handler.setReadsPaused(paused, context: handlerContext) }

    func close() { channel.close(promise: nil) }
}
