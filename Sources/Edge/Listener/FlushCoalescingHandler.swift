import NIOCore

/// Turns the flushes of one event-loop tick into one, at the end of that tick.
///
/// On an HTTP/2 connection every stream flushes its own response, and each flush that reaches
/// TLS becomes a record and a `write` of its own: with many streams answered in one tick (their
/// upstream responses arrive in one batch of I/O events), most of the connection's CPU went to
/// sealing and sending tiny records one by one. Sitting between TLS and HTTP/2, this handler
/// lets the writes through and delays the flush to a task queued behind the tick's I/O, so the
/// responses that are ready together leave in as few records and system calls as possible.
/// The delay is the rest of the current tick: no timer, nothing held across ticks.
final class FlushCoalescingHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = NIOAny

    private var flushScheduled = false

    func flush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            guard self.flushScheduled else { return }  // a close flushed already
            self.flushScheduled = false
            context.flush()
        }
    }

    /// Whatever waits for the flush goes out before the close (a GOAWAY, a last response).
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if flushScheduled {
            flushScheduled = false
            context.flush()
        }
        context.close(mode: mode, promise: promise)
    }
}
