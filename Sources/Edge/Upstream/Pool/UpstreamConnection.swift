#if canImport(Glibc)
import Glibc
#endif
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

/// The HTTP/1.1 client end of an upstream connection, and its only handler: requests go out as
/// bytes the exchange serialized, responses come in through an ``UpstreamResponseParser`` and
/// go to the request currently using the connection. Reads are held back while the client
/// cannot keep up.
final class UpstreamConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    /// Bytes that arrived behind a `101 Switching Protocols`, handed on when this handler leaves.
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The request using the connection; `nil` while it is idle in the pool.
    weak var delegate: (any UpstreamExchangeDelegate)?
    /// Called once when the channel closes, so the pool forgets it.
    var onClose: (() -> Void)?
    private var readsPaused = false
    private var readPending = false
    private(set) var isClosed = false
    private var parser = UpstreamResponseParser()
    /// Read bytes not parsed yet (an incomplete head or chunk line, or a tunnel's first bytes).
    private var unparsed: ByteBuffer?

    /// A request head went out: the next response answers it.
    func requestSent(method: HTTPMethod) {
        parser.requestSent(method: method)
    }

    /// Whether the response in progress ended and the connection may carry another request.
    var isReusable: Bool { parser.isIdle && parser.keepAlive }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var earlier = unparsed {
            unparsed = nil
            earlier.writeBuffer(&buffer)
            buffer = earlier
        }
        do {
            while let event = try parser.next(&buffer) {
                deliver(event)
            }
        } catch {
            fail(error, context: context)
            return
        }
        if buffer.readableBytes > 0 { unparsed = buffer }
    }

    private func deliver(_ event: UpstreamResponseParser.Event) {
        switch event {
        case .head(let head): delegate?.upstreamResponseHead(head)
        case .body(let body): delegate?.upstreamResponseBody(body)
        case .end: delegate?.upstreamResponseEnd()
        }
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        let delegate = self.delegate
        self.delegate = nil
        unparsed = nil
        delegate?.upstreamExchangeFailed(error)
        context.close(promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A body read until the close ends here; any other response cut short fails.
        var failure: (any Error)? = ChannelError.ioOnClosedChannel
        do {
            if let event = try parser.inputClosed() {
                deliver(event)
                failure = nil
            }
        } catch {
            failure = error
        }
        isClosed = true
        let delegate = self.delegate
        self.delegate = nil
        onClose?()
        onClose = nil
        if let failure { delegate?.upstreamExchangeFailed(failure) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error, context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Leaving for a tunnel: the bytes that came right behind the 101 belong to it.
        if let unparsed, parser.isSwitched, unparsed.readableBytes > 0 {
            self.unparsed = nil
            context.fireChannelRead(wrapInboundOut(unparsed))
        }
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

    /// Writes a request head (serialized by the exchange); the response that follows answers it.
    func writeHead(_ bytes: ByteBuffer, method: HTTPMethod) {
        handler.requestSent(method: method)
        write(bytes)
    }

    /// Writes request bytes (a body part, already framed).
    func write(_ bytes: ByteBuffer) {
        handlerContext.write(handler.wrapOutboundOut(bytes), promise: nil)
    }

    func flush() { handlerContext.flush() }

    func setReadsPaused(_ paused: Bool) { handler.setReadsPaused(paused, context: handlerContext) }

    func close() { channel.close(promise: nil) }

    /// Closes with a TCP reset instead of a FIN (`SO_LINGER` 0): for a request cut short (a body
    /// refused mid-stream), so the server can never take the bytes it got for a complete
    /// request: a reset is an error on its next read, where a FIN could end a body framed by
    /// the connection's close, or leave a half-read request that looks merely slow.
    func reset() {
        if let socket = channel as? any SocketOptionProvider {
            socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { [channel] _ in channel.close(promise: nil) }
        } else {
            channel.close(promise: nil)
        }
    }
}
