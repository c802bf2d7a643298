import Limits
import NIOCore

/// Per-connection facts the HTTP layer cannot see: when bytes last arrived, and the first bytes
/// of a request head. It sits first in the pipeline, before the HTTP decoder, so a client that
/// trickles a request head one byte at a time is seen doing so (the decoder only reports a head
/// once it is complete).
final class ClientActivity {
    /// When the last bytes arrived.
    var lastReadAt: Instant = MonotonicClock().now()
    /// When the first bytes arrived since the handler last waited for a head.
    var firstReadSinceWait: Instant?
    /// The context of the ``ClientActivityHandler`` while it is in the pipeline: `writeRaw` writes there.
    fileprivate var rawContext: ChannelHandlerContext?
    /// Called after a read that left a request head incomplete (rare: most heads arrive whole).
    var onPartialHead: (() -> Void)?
    /// Set while the connection lingers before its close: what the client still sends is read
    /// and dropped here, before any HTTP parsing.
    var discardsReads = false

    /// Writes bytes straight to the socket, below the HTTP encoder (for `100 Continue` and
    /// answers when no request head exists).
    /// - Returns: `false` without a ``ClientActivityHandler`` in the pipeline (then `promise`
    ///   is failed).
    @discardableResult
    func writeRaw(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>? = nil) -> Bool {
        guard let context = rawContext else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return false
        }
        context.writeAndFlush(NIOAny(buffer), promise: promise)
        return true
    }
}

final class ClientActivityHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let activity: ClientActivity

    init(activity: ClientActivity) { self.activity = activity }

    func handlerAdded(context: ChannelHandlerContext) {
        activity.rawContext = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        activity.rawContext = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if activity.discardsReads { return }
        let now = MonotonicClock().now()
        activity.lastReadAt = now
        if activity.firstReadSinceWait == nil { activity.firstReadSinceWait = now }
        context.fireChannelRead(data)
        // The handler clears the mark when a head completes; still set means a partial head.
        if activity.firstReadSinceWait != nil { activity.onPartialHead?() }
    }
}
