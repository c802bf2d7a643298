import NIOCore

/// The last handler of an HTTP/2 connection: a connection-level error (a rapid-reset flood, a
/// header flood, a protocol violation) has already made the HTTP/2 handler send `GOAWAY`; this
/// closes the socket too, instead of leaving it open until the idle timeout.
final class HTTP2ErrorCloser: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The HTTP/2 handler reports the error before it has written and flushed its GOAWAY (it
        // does so as it finishes the read): close once the current read is fully handled, so the
        // client learns why.
        context.eventLoop.assumeIsolated().execute {
            context.flush()
            context.close(promise: nil)
        }
    }
}
