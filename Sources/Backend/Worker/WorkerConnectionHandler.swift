import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Sits in each connection's pipeline, after HTTP decoding and before Hummingbird's connection
/// state handler, and turns the worker's drain into a close that loses no request.
///
/// HTTP/1.1 has no race-free way to close an idle keep-alive connection: the client (the edge's
/// upstream pool) may be sending a request on it at that very moment, and would see the
/// connection close unanswered. So a draining worker closes a connection only right after
/// answering a request on it, with `Connection: close` in that response (the client then never
/// reuses it): a busy connection after its current response, an idle one after its next
/// request. A connection that stays idle for `idleGrace` is closed anyway, so the drain ends; by
/// then the edge has long stopped picking it (it reuses its most recently used connections
/// first).
final class WorkerConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        /// Not draining. Can transition to: `.holding` (drain while idle), `.closing` (drain
        /// while a request is in progress).
        case serving
        /// Draining while idle: waiting for one more request (or the grace to end).
        /// Can transition to: `.closing`.
        case holding(Scheduled<Void>?)
        /// Hummingbird was told to close after the current response; responses say so.
        case closing
    }

    private let drain: WorkerDrain
    private let idleGrace: TimeAmount
    private var state = State.serving
    private var requestsInProgress = 0
    private var registered = false

    init(drain: WorkerDrain, idleGrace: TimeAmount = .seconds(2)) {
        self.drain = drain
        self.idleGrace = idleGrace
    }

    func handlerAdded(context: ChannelHandlerContext) {
        registered = drain.register(context.channel)
        if !registered {
            // Set up after the drain began. The rest of the pipeline is added right after this
            // handler, so the drain starts on the next loop turn, once it is there.
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.execute {
                let (handler, context) = loopBound.value
                handler.startDraining(context: context)
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if case .holding(let timer) = state { timer?.cancel() }
        if registered { drain.unregister(context.channel) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if registered {
            drain.unregister(context.channel)
            registered = false
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        requestsInProgress += 1
        context.fireChannelRead(data)
        if case .holding(let timer) = state {
            timer?.cancel()
            // The head is through: Hummingbird counts the request in progress and closes after it.
            close(context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var response) where isClosing && response.status.kind != .informational:
            response.headerFields[.connection] = "close"
            context.write(wrapOutboundOut(.head(response)), promise: promise)
        case .end:
            requestsInProgress -= 1
            context.write(data, promise: promise)
        case .head, .body:
            context.write(data, promise: promise)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        startDraining(context: context)
    }

    private var isClosing: Bool {
        if case .closing = state { return true }
        return false
    }

    private func startDraining(context: ChannelHandlerContext) {
        guard case .serving = state else { return }
        guard requestsInProgress == 0 else {
            close(context: context)
            return
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let timer = context.eventLoop.scheduleTask(in: idleGrace) {
            let (handler, context) = loopBound.value
            if case .holding = handler.state { handler.close(context: context) }
        }
        state = .holding(timer)
    }

    /// Passes the quiesce on: Hummingbird closes the connection after the response in progress,
    /// or at once when there is none (the idle grace ended).
    private func close(context: ChannelHandlerContext) {
        state = .closing
        context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
    }
}
