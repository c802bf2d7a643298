import Limits
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOHTTPCompression
import NIOPosix

/// The SwiftNIO shell of one client connection (HTTP/1.1) or one HTTP/2 stream: it turns reads,
/// writes, timers and closes into events for the engine (``ClientConnection`` for the
/// connection's life, ``FilterChain`` for each request's fate, ``Exchange`` for proxying) and
/// carries out what they decide. It holds no decision of its own: keep-alive, pipelining,
/// draining, lingering and every timeout are the machine's.
///
/// One request at a time: parts of a pipelined next request that arrive while the current one is
/// still being answered are held (and reading stops) until its response has ended. Responses
/// leave through a ``ResponseWriter``. All state lives on the channel's event loop, the upstream
/// connection's included, so there is no locking here.
final class ClientHandler: ChannelDuplexHandler, RemovableChannelHandler, HTTP2StreamDeadlines.Owner {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    /// Unused: responses leave through the ``ResponseWriter`` as bytes or as parts.
    typealias OutboundOut = HTTPServerResponsePart

    typealias Mode = ClientConnection<Exchange>.Mode

    let state: EdgeState
    private let loop: LoopContext
    let clock = MonotonicClock()
    private let activity: ClientActivity
    private let peer: ClientKey
    private let peerText: String
    private let peerTrusted: Bool
    private let scheme: String
    var secure: Bool { scheme == "https" }
    /// The connection's slot in its client's cap (released when the channel closes).
    private var lease: ConnectionLease?
    /// What the filter chain needs of this connection, made once (the cap's verdict is set on
    /// activation): building it per request would copy the redirect settings each time.
    private var filterContext: FilterChain.Connection
    /// The slot of the request in progress in its client's cap, when the connection comes from
    /// a trusted proxy: there the cap counts the real client's requests in flight, since one
    /// proxy connection carries many clients (nginx's `limit_conn` after `real_ip`).
    private var requestLease: ConnectionLease?

    /// The connection's life: every decision about it.
    var machine: ClientConnection<Exchange>
    private(set) var context: ChannelHandlerContext!
    /// Where the writer writes: this handler's context, or on an HTTP/2 stream the context of the
    /// HTTP/1 codec, so that frames go below it.
    private var outputContext: ChannelHandlerContext!
    /// The machine's wait timer: request head, keep-alive idle, lingering. Made when first
    /// armed: an HTTP/2 stream has none of these waits.
    private var waitTimer: LazyTimer?
    /// The upstream read timeout of the exchange in progress (one timer for the connection's
    /// life); on an HTTP/2 stream, after the answer, its send deadline.
    private var upstreamReadTimer: UpstreamDeadline!
    /// HTTP/2: the connection's timer, which carries its streams' deadlines (``upstreamReadTimer``
    /// is an entry there: a stream lives for one request, and a timer of its own would cost a
    /// schedule and a cancel in the loop's timer heap per request).
    private let streamDeadlines: HTTP2StreamDeadlines?
    private var bodyTimer: Scheduled<Void>?
    private var sendTimer: Scheduled<Void>?
    private var writer: ResponseWriter
    /// The method of the request being answered (a HEAD's answer carries no body).
    private var requestMethod: HTTPMethod = .GET
    /// Parts of pipelined requests that arrived while the current one was still being answered.
    /// (Room for one to start with: it is rarely used, and every idle connection carries it.)
    private var pipelined = CircularBuffer<HTTPServerRequestPart>(initialCapacity: 1)
    /// Set while held parts are being handed on (a local answer inside that loop comes back here).
    private var releasingPipelined = false
    /// HTTP/2: the stream's answer ended; ``upstreamReadTimer`` now holds its send deadline.
    private var streamAnswerEnded = false
    /// HTTP/2: the runtime the stream was opened with, for its one request (taken by it).
    private var streamRuntime: EdgeRuntime?
    /// A request waiting for a strict shared zone's store (`ClientHandler+SharedZone.swift`).
    var sharedZoneWait: SharedZoneWait?
    var sharedZoneAsks: UInt64 = 0
    private var activated = false

    var mode: Mode { machine.mode }
    /// Set on a listener that only redirects to HTTPS (and serves ACME challenges).
    private let httpsRedirect: HTTPSRedirect?

    init(
        state: EdgeState, loop: LoopContext, activity: ClientActivity, peer: ClientKey, peerText: String? = nil,
        scheme: String, mode: Mode = .http1, output: ResponseWriter.Output, httpsRedirect: HTTPSRedirect? = nil,
        runtime: EdgeRuntime? = nil, streamDeadlines: HTTP2StreamDeadlines? = nil
    ) {
        self.streamDeadlines = streamDeadlines
        // One read of the runtime (a lock) per connection or stream. Its timeouts stay with the
        // connection, as an nginx worker's do across a reload; new connections take the new ones.
        // An HTTP/2 stream's runtime comes from its initializer, which read it already, and
        // serves the stream's one request too.
        let runtime = runtime ?? state.runtime
        if mode == .http2Stream { streamRuntime = runtime }
        let config = runtime.config
        let timeouts = config.timeouts
        self.machine = ClientConnection(
            mode: mode,
            timeouts: .init(
                header: timeouts.header, keepAlive: timeouts.keepAlive, body: timeouts.body, lingering: timeouts.lingering,
                send: timeouts.send))
        self.writer = ResponseWriter(output: output)
        self.httpsRedirect = httpsRedirect
        self.state = state
        self.loop = loop
        self.activity = activity
        self.peer = peer
        self.peerText = peerText ?? peer.description  // an HTTP/2 connection formats it once for its streams
        self.scheme = scheme
        self.peerTrusted = ClientAddress.isTrusted(peer, config.trustedProxies)
        self.filterContext = FilterChain.Connection(
            peer: peer, peerTrusted: peerTrusted, isHTTP2Stream: mode == .http2Stream, overConnectionLimit: false,
            httpsRedirect: httpsRedirect)
    }

    // MARK: Connection lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        outputContext = context
        if case .http2Frames = writer.output {
            outputContext = try? context.pipeline.syncOperations.context(handlerType: HTTP2FramePayloadToHTTP1ServerCodec.self)
            precondition(outputContext != nil, "an HTTP/2 stream writing frames needs the HTTP/1 codec in its pipeline")
        }
        if let streamDeadlines {
            upstreamReadTimer = .stream(streamDeadlines.entry(for: self))
        } else {
            upstreamReadTimer = .own(LazyTimer(eventLoop: context.eventLoop) { [weak self] in self?.upstreamDeadlinePassed() })
        }
        // An HTTP/2 stream's head comes whole, in one HEADERS frame (and its timeouts are the
        // connection's): only HTTP/1 connections time a head that trickles in.
        if mode == .http1 { activity.onPartialHead = { [weak self] in self?.partialHeadArrived() } }
        // Behind TLS the handler joins a channel that is already active (after the handshake and
        // ALPN), so `channelActive` will not come: activate now.
        if context.channel.isActive { activate(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // The context holds this handler: drop it, or every closed connection leaks both.
        cancelTimers()
        dropSharedZoneWait()
        activity.onPartialHead = nil
        self.context = nil
        outputContext = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        activate(context: context)
        context.fireChannelActive()
    }

    /// Counts the connection (or stream) against the client's cap and starts its timers, once.
    private func activate(context: ChannelHandlerContext) {
        guard !activated else { return }
        activated = true
        // Each HTTP/2 stream counts against the client's connection cap, as nginx counts them.
        let countsAsConnection = mode == .http1
        if countsAsConnection { state.metrics.openConnections.add(1, ordering: .relaxed) }
        // A trusted proxy multiplexes many clients on its connections: cap the clients, not it.
        if let limiter = state.connectionLimiter, !peerTrusted {
            switch limiter.acquire(peer) {
            case .acquired(let lease): self.lease = lease
            case .rejected:
                filterContext.overConnectionLimit = true
                state.metrics.recordConnectionLimited(shard: loop.index)
            }
        }
        // Released when the channel closes, whatever closes it, even after this handler has left
        // the pipeline (a WebSocket tunnel).
        let lease = self.lease
        let metrics = state.metrics
        context.channel.closeFuture.whenComplete { _ in
            lease?.release()
            if countsAsConnection { metrics.openConnections.add(-1, ordering: .relaxed) }
        }
        activity.firstReadSinceWait = nil
        apply(machine.activated(now: clock.now()))
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        dropSharedZoneWait()
        if let exchange = machine.closed() { abandon(exchange) }
        releaseRequestLease()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            // Shutdown: finish the request in progress, then close; an idle connection closes now.
            if machine.drain(pipelinedWaiting: !pipelined.isEmpty) { close() }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError {
            // Malformed or ambiguous requests (both Content-Length and Transfer-Encoding, differing
            // Content-Lengths, bad chunk sizes, bad header bytes): refuse, never forward, close.
            state.logger.debug("bad request from client", [("edge.client", peerText), ("error", "\(error)")])
            switch machine.phase {
            case .awaitingHead, .askingSharedZone:
                // No request head reached the HTTP layer, so the 400 goes out as raw bytes: a
                // response there would have no request to answer (the compressor would trap).
                writeRawAndClose(.badRequest("malformed request"))
            case .proxying(let exchange), .delayed(let exchange):
                if exchange.responseStarted {
                    close()
                } else {
                    exchange.abort()
                    respondAndClose(.badRequest("malformed request body"), runtime: exchange.runtime, requestID: exchange.requestID)
                }
            case .local, .closing, .lingering:
                close()
            }
            return
        }
        close()
    }

    // MARK: Reads and backpressure

    func read(context: ChannelHandlerContext) {
        if machine.readRequested() { context.read() }
    }

    /// Stops or resumes reading from the client (while an upstream connects, or cannot take more).
    func setReadsPaused(_ paused: Bool) {
        if machine.setBackpressure(paused) { context.read() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        if case .proxying(let exchange) = machine.phase { exchange.clientWritabilityChanged(isWritable: writable) }
        if writable {
            sendTimer?.cancel()
            sendTimer = nil
        } else if sendTimer == nil {
            // The client is not taking what we send: give it `send` to make progress, then drop it.
            let timeout = TimeAmount(machine.timeouts.send)
            sendTimer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
                guard let self, !self.context.channel.isWritable else { return }
                self.state.logger.debug("closing a client that stopped reading", [("edge.client", self.peerText)])
                self.close()
            }
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if !pipelined.isEmpty || holdsNextRequest {
            pipelined.append(part)
            _ = machine.setPipelineHold(true)
            return
        }
        handle(part)
    }

    /// Parts wait while the current request is read whole and still being answered, or while
    /// a strict shared zone decides it (they are its body, taken once the answer comes).
    private var holdsNextRequest: Bool { machine.holdsNextRequest { $0.requestEnded } }

    /// Takes the held parts of pipelined requests, once the connection waits for a head again.
    func releasePipelined() {
        guard !releasingPipelined else { return }  // a local answer inside the loop comes back here
        releasingPipelined = true
        defer { releasingPipelined = false }
        while !holdsNextRequest, let part = pipelined.popFirst() {
            if case .closing = machine.phase {
                pipelined.removeAll()
                break
            }
            handle(part)
        }
        if pipelined.isEmpty, machine.reads.pipelineHold, machine.setPipelineHold(false) { context?.read() }
    }

    private func handle(_ part: HTTPServerRequestPart) {
        switch (machine.phase, part) {
        case (.awaitingHead, .head(let head)):
            activity.firstReadSinceWait = nil
            apply(machine.headReceived(keepAlive: head.isKeepAlive))
            receivedHead(head)
        case (.local, .end):
            if let next = machine.localRequestEnded(now: clock.now(), pipelinedWaiting: !pipelined.isEmpty) {
                afterResponse(next, alreadyEnded: true)
            }
        case (.local, .body):
            break  // the body of a request answered locally: dropped
        case (.proxying(let exchange), .body(let body)), (.delayed(let exchange), .body(let body)):
            // On HTTP/2 no handler below sees the stream's bytes: the body timeout measures the
            // gap between DATA frames from here.
            if mode == .http2Stream { activity.lastReadAt = clock.now() }
            exchange.clientBody(body)
        case (.proxying(let exchange), .end(_)), (.delayed(let exchange), .end(_)):
            exchange.clientEnd()
        case (.closing, _), (.lingering, _):
            break
        case (.awaitingHead, _), (.askingSharedZone, _), (.proxying, .head), (.delayed, .head), (.local, .head):
            preconditionFailure("request part \(part) in state \(machine.phase)")
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .proxying(let exchange) = machine.phase { exchange.clientReadComplete() }
        context.fireChannelReadComplete()
    }

    private func receivedHead(_ head: HTTPRequestHead) {
        var head = head
        let runtime = streamRuntime.take() ?? state.runtime
        let started = clock.now()
        requestMethod = head.method
        let verdict = FilterChain.decide(
            head, on: filterContext, runtime: runtime, connectionLimiter: state.connectionLimiter, now: started, random: &loop.random)
        if let originForm = verdict.originFormTarget { head.uri = originForm }
        requestLease = verdict.requestLease
        if mode == .http2Stream { Self.joinCookieCrumbs(&head.headers) }
        act(on: verdict, head: head, runtime: runtime, started: started)
    }

    /// Carries out the filter chain's verdict (after a strict zone's answer, the resumed one).
    func act(on verdict: RequestVerdict, head: HTTPRequestHead, runtime: EdgeRuntime, started: Instant) {
        if case .askSharedZone(let question) = verdict.decision {
            askSharedZone(question, verdict: verdict, head: head, runtime: runtime, started: started)
            return
        }
        var record = AccessRecord(
            requestID: verdict.requestID, client: verdict.client == peer ? peerText : verdict.client.description,
            method: head.method.rawValue, target: head.uri, started: started)
        record.route = verdict.routeLabel
        record.limitOutcome = verdict.limitOutcome
        record.logged = verdict.logged
        switch verdict.refusedBy {
        case .connectionLimit: state.metrics.recordConnectionLimited(shard: loop.index)
        case .rateLimit(let zone): state.metrics.recordRateLimited(shard: loop.index, zone: zone)
        case nil: break
        }
        let hasBody = verdict.hasBody
        switch verdict.decision {
        case .answer(let answer, let route, let close):
            answerLocally(
                LocalResponse(answer, head: head, limits: runtime.config.limits, httpsRedirect: httpsRedirect), record: record,
                runtime: runtime, route: route, hasBody: hasBody, forceClose: close)
        case .serveStatic(let config, let relative, let route):
            serveStatic(head, config: config, relative: relative, record: record, runtime: runtime, route: route, hasBody: hasBody)
        case .proxy(let route, let cluster, let delay):
            proxy(head, route: route, cluster: cluster, delay: delay, verdict: verdict, record: record, runtime: runtime)
        case .askSharedZone:
            preconditionFailure("a question to a shared zone is asked above")
        }
    }

    private func proxy(
        _ head: HTTPRequestHead, route: CompiledRoute, cluster: Cluster, delay: Duration, verdict: RequestVerdict,
        record: AccessRecord, runtime: EdgeRuntime
    ) {
        let hasBody = verdict.hasBody
        if head.headers["expect"].contains(where: { $0.lowercased() == "100-continue" }) {
            // The edge wants the body (it passed every check), so it says so itself. Written
            // below the HTTP layer: an interim head would confuse the compressor's request queue
            // (and the writer's framing).
            activity.writeRaw(context.channel.allocator.buffer(string: "HTTP/1.1 100 Continue\r\n\r\n"))
        }
        // HTTP/2 checks a body against its `content-length` only at the stream's end, and a
        // request refused then must not have reached the upstream: a small declared body is
        // read whole before anything goes upstream (a large one streams, and a stream reset
        // resets the upstream connection, so the upstream never takes it as complete).
        let holdsBody = mode == .http2Stream && hasBody
            && (head.headers.first(name: "content-length").flatMap { Int($0) } ?? Int.max) <= Exchange.replayableBodyLimit
        let exchange = Exchange(
            handler: self, runtime: runtime, route: route, cluster: cluster, head: head, waitsForEnd: !hasBody || holdsBody,
            requestID: verdict.requestID, record: record, peerText: peerText,
            peerTrusted: peerTrusted, scheme: scheme)
        // Reads pause only for a body, which must wait for the upstream connection; a
        // bodiless request is already complete (and a pipelined next one waits in `pipelined`).
        machine.beginProxy(exchange, delayed: delay > .zero, pausesReads: hasBody && !holdsBody)
        if delay > .zero {
            context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) { [weak self] in
                guard let self, self.machine.delayElapsed(exchange) else { return }
                exchange.start()
            }
        } else {
            exchange.start()
        }
    }

    // MARK: Local answers

    /// Writes a response the edge makes itself, then waits for the rest of the request body (if
    /// any) before taking the next request, or closes.
    private func answerLocally(
        _ response: LocalResponse, record: AccessRecord, runtime: EdgeRuntime, route: CompiledRoute?, hasBody: Bool,
        forceClose: Bool = false
    ) {
        let keepAlive = machine.beginLocal(mustClose: forceClose, hasBody: hasBody)
        let decorations = decorations(for: route, runtime)
        let (head, body) = response.parts(
            decorations: decorations, requestID: record.requestID, keepAlive: keepAlive, allocator: context.channel.allocator)
        writeLocal(head: head, body: .buffer(body), record: record, runtime: runtime)
    }

    /// A body the edge sends itself.
    enum LocalBody {
        case buffer(ByteBuffer)
        /// A file sent with `sendfile`; the handle is closed once written.
        case file(FileRegion, NIOFileHandle)
        /// A file read in chunks off the event loop (TLS and HTTP/2 cannot use `sendfile`), each
        /// chunk read only once the previous one was written; the handle is closed at the end.
        case fileChunks(NIOFileHandle, range: Range<Int>)
        case none
    }

    func writeLocal(
        head: HTTPResponseHead, body: LocalBody, record: AccessRecord, runtime: EdgeRuntime, compressible: Bool = false
    ) {
        var record = record
        record.status = Int(head.status.code)
        writeResponseHead(status: head.status, version: head.version, headers: head.headers, compressible: compressible)
        var handle: NIOFileHandle?
        switch body {
        case .buffer(let buffer):
            record.bytesOut = buffer.readableBytes
            if buffer.readableBytes > 0 { writer.writeBody(.byteBuffer(buffer), context: outputContext) }
        case .file(let region, let fileHandle):
            record.bytesOut = region.readableBytes
            handle = fileHandle
            writer.writeBody(.fileRegion(region), context: outputContext)
        case .fileChunks(let fileHandle, let range):
            record.bytesOut = range.count
            let eventLoop = context.eventLoop
            let bound = NIOLoopBound(self, eventLoop: eventLoop)
            let io = NonBlockingFileIO(threadPool: state.fileIO)
            let sent = NIOLoopBoundBox(0, eventLoop: eventLoop)
            io.readChunked(
                fileHandle: fileHandle, fromOffset: Int64(range.lowerBound), byteCount: range.count, chunkSize: 64 * 1024,
                allocator: context.channel.allocator,
                eventLoop: eventLoop
            ) { chunk in
                let handler = bound.value
                guard let context = handler.outputContext, context.channel.isActive else {
                    return eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
                }
                let written = eventLoop.makePromise(of: Void.self)
                let size = chunk.readableBytes
                handler.writer.writeBody(.byteBuffer(chunk), context: context, promise: written)
                handler.writer.flush(context: context)
                return written.futureResult.map { sent.value += size }
            }.assumeIsolated().whenComplete { [weak self] result in
                try? fileHandle.close()
                guard let self else { return }
                if case .failure = result {
                    // The client went away or stopped reading mid-file: logged with what it got.
                    var cut = record
                    cut.bytesOut = sent.value
                    self.finishRecord(cut, runtime: runtime)
                    self.close()
                    return
                }
                self.endLocal(record: record, runtime: runtime, handle: nil)
            }
            return
        case .none:
            break
        }
        endLocal(record: record, runtime: runtime, handle: handle)
    }

    /// Ends a local answer and moves the connection on: to the next request (a pipelined one
    /// may be waiting already), to the rest of a refused body, or to the close.
    private func endLocal(record: AccessRecord, runtime: EdgeRuntime, handle: NIOFileHandle?) {
        finishRecord(record, runtime: runtime)
        let closeFile: ((Result<Void, any Error>) -> Void)? = handle.map { handle in { _ in try? handle.close() } }
        guard case .local = machine.phase else {
            endResponse(then: closeFile)
            return
        }
        afterResponse(machine.localResponseEnded(now: clock.now(), pipelinedWaiting: !pipelined.isEmpty), then: closeFile)
    }

    /// Carries out what the machine decided once a response ended.
    /// - Parameters:
    ///   - alreadyEnded: the response's end was written before (the request's end came after it).
    ///   - completion: runs once the response's end was written (or failed).
    private func afterResponse(
        _ next: ClientConnection<Exchange>.AfterResponse, alreadyEnded: Bool = false,
        then completion: ((Result<Void, any Error>) -> Void)? = nil
    ) {
        switch next {
        case .nextRequest(let wait):
            if machine.takeOwedRead() { context.read() }
            activity.firstReadSinceWait = nil
            apply(wait)
            if !alreadyEnded { endResponse(then: completion) }
            releasePipelined()
        case .awaitRequestEnd:
            endResponse(then: completion)
        case .streamDone:
            if !alreadyEnded { endResponse(then: completion) }
        case .close(let unreadInput):
            if alreadyEnded {
                closeWhenWritten(unreadInput: unreadInput)
            } else {
                endResponse { [weak self] result in
                    completion?(result)
                    self?.lingerOrClose(result, unreadInput: unreadInput)
                }
            }
        }
    }

    /// Writes a response below the HTTP layer and closes: for answers when no request head exists
    /// (a head that never completed, or bytes that are not HTTP).
    private func writeRawAndClose(_ response: LocalResponse) {
        let runtime = state.runtime
        let bytes = response.serialized(
            decorations: decorations(for: nil, runtime), requestID: RequestID.generate(using: &loop.random),
            allocator: context.channel.allocator)
        machine.startClosing()
        let written = context.eventLoop.makePromise(of: Void.self)
        // No request was parsed: what the client sent after the bad bytes is unread.
        written.futureResult.assumeIsolated().whenComplete { [weak self] in self?.lingerOrClose($0, unreadInput: true) }
        activity.writeRaw(bytes, promise: written)
    }

    /// Writes an error response and closes, for failures where the connection cannot be trusted further.
    private func respondAndClose(_ response: LocalResponse, runtime: EdgeRuntime, requestID: String?) {
        let id = requestID ?? RequestID.generate(using: &loop.random)
        let (head, body) = response.parts(
            decorations: decorations(for: nil, runtime), requestID: id, keepAlive: false, allocator: context.channel.allocator)
        machine.startClosing()
        writeResponseHead(status: head.status, version: head.version, headers: head.headers)
        writer.writeBody(.byteBuffer(body), context: outputContext)
        // The request failed before its end was read: assume the client is still sending.
        endResponse { [weak self] in self?.lingerOrClose($0, unreadInput: true) }
    }

    // MARK: Called by the exchange

    /// The headers every response of `route` (or the edge's own, for `nil`) carries on this
    /// connection: with HSTS on HTTPS, never on plain HTTP.
    func decorations(for route: CompiledRoute?, _ runtime: EdgeRuntime) -> ResponseDecorations {
        if secure { return route?.secureDecorations ?? runtime.secureBaseDecorations }
        return route?.decorations ?? runtime.baseDecorations
    }

    /// The upstream response ended: writes its end and moves the connection on to the next
    /// request (a pipelined one may be waiting already).
    func exchangeFinished(_ exchange: Exchange, keepAlive: Bool) {
        guard case .proxying(let running) = machine.phase, running === exchange else { return }
        cancelBodyTimer()
        finishRecord(exchange.record, runtime: exchange.runtime)
        afterResponse(
            machine.exchangeFinished(
                keepAlive: keepAlive, requestEnded: exchange.requestEnded, now: clock.now(), pipelinedWaiting: !pipelined.isEmpty))
    }

    /// The exchange failed before any response byte went to the client: answer with `response`.
    func exchangeFailed(_ exchange: Exchange, response: LocalResponse, mustClose: Bool) {
        guard case .proxying(let running) = machine.phase, running === exchange else { return }
        cancelBodyTimer()
        var record = exchange.record
        record.route = exchange.route.label
        let keepAlive = machine.exchangeFailed(requestEnded: exchange.requestEnded, mustClose: mustClose)
        if machine.takeOwedRead() { context.read() }
        let (head, body) = response.parts(
            decorations: decorations(for: nil, exchange.runtime), requestID: exchange.requestID, keepAlive: keepAlive,
            allocator: context.channel.allocator)
        writeLocal(head: head, body: .buffer(body), record: record, runtime: exchange.runtime)
    }

    /// The upstream switched protocols: from here on both connections carry raw bytes, joined by
    /// a ``TunnelHandler`` pair, and the HTTP handlers leave both pipelines.
    func switchToTunnel(_ exchange: Exchange, upstream: UpstreamConnection) {
        guard case .proxying(let running) = machine.phase, running === exchange else { return }
        cancelTimers()
        finishRecord(exchange.record, runtime: exchange.runtime)
        machine.startClosing()
        let (clientSide, upstreamSide) = TunnelHandler.pair()
        let clientChannel = context.channel
        let client = clientChannel.pipeline.syncOperations
        let server = upstream.channel.pipeline.syncOperations
        do {
            // Order matters. The client's HTTP handlers leave first, so that nothing the tunnel
            // writes meets an HTTP encoder; this handler leaves last on that side (its context is
            // gone afterwards). On the upstream side the tunnel comes in before the connection's
            // handler leaves: that handler hands on the bytes that came right behind the 101.
            try client.addHandler(clientSide)
            if let compressor = try? client.handler(type: HTTPResponseCompressor.self) { _ = client.removeHandler(compressor) }
            if let encoder = try? client.handler(type: HTTPResponseEncoder.self) { _ = client.removeHandler(encoder) }
            _ = client.removeHandler(try client.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self))
            upstream.handler.delegate = nil
            upstream.handler.onClose = nil
            try server.addHandler(upstreamSide)
            _ = server.removeHandler(upstream.handler)
            _ = client.removeHandler(context: context)
        } catch {
            state.logger.warning("could not switch a connection to a tunnel", [("error", "\(error)")])
            upstream.close()
            clientChannel.close(promise: nil)
            return
        }
        // Bytes the upstream decoder forwarded on removal were written without a read-complete
        // to flush them.
        clientChannel.flush()
        upstream.channel.read()
        clientChannel.read()
    }

    /// The response had started and cannot be completed: the only honest signal left is a close.
    func exchangeBroken(_ exchange: Exchange) {
        guard case .proxying(let running) = machine.phase, running === exchange else { return }
        var record = exchange.record
        record.status = record.status == 0 ? 502 : record.status
        finishRecord(record, runtime: exchange.runtime)
        machine.startClosing()
        close()
    }

    /// Writes a response head through the connection's ``ResponseWriter``.
    /// - Parameter compressible: whether the body may be gzipped (see ``CompressionMarker``).
    func writeResponseHead<Headers: HeaderSource>(
        status: HTTPResponseStatus, version: HTTPVersion, headers: Headers, compressible: Bool = false
    ) {
        writer.writeHead(
            status: status, version: version, headers: headers, requestMethod: requestMethod, compressible: compressible,
            context: outputContext)
    }

    func writeResponseBody(_ body: ByteBuffer) { writer.writeBody(.byteBuffer(body), context: outputContext) }

    func flushResponse() { writer.flush(context: outputContext) }

    /// Ends the response and flushes it; `completion` runs once it was written (or failed).
    private func endResponse(then completion: ((Result<Void, any Error>) -> Void)? = nil) {
        var promise: EventLoopPromise<Void>?
        if let completion {
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.assumeIsolated().whenComplete(completion)
            promise = written
        }
        writer.writeEnd(context: outputContext, promise: promise)
        writer.flush(context: outputContext)
        if mode == .http2Stream { armStreamSendDeadline() }
    }

    /// HTTP/2: a stream's last frame leaves only when the client's flow-control window lets
    /// it, and a stream's writability does not show a shut window for a small answer. A client
    /// that keeps the window shut for `timeouts.send` gets the stream reset, as nginx's
    /// `send_timeout` does (the connection and its other streams go on). The deadline replaces
    /// the stream's upstream read timeout (the exchange is over) in its entry on the
    /// connection's timer (``HTTP2StreamDeadlines``): a store, which moves the connection's
    /// wake-up only when nothing earlier is due there. No promise or timer per response.
    private func armStreamSendDeadline() {
        guard case .arm(let deadline) = machine.streamAnswerEnded(now: clock.now()) else { return }
        streamAnswerEnded = true
        upstreamReadTimer.arm(at: NIODeadline(deadline))
    }

    /// Joins the `cookie` fields of an HTTP/2 request into one, `; `-separated, before the
    /// request goes to an HTTP/1.1 upstream (RFC 9113 §8.2.3): HTTP/2 clients send each cookie
    /// as its own field, and an HTTP/1.1 server may keep only one `Cookie` line.
    static func joinCookieCrumbs(_ headers: inout HTTPHeaders) {
        let crumbs = headers["cookie"]
        guard crumbs.count > 1 else { return }
        headers.remove(name: "cookie")
        headers.add(name: "cookie", value: crumbs.joined(separator: "; "))
    }

    var clientIsWritable: Bool { context.channel.isWritable }
    var allocator: ByteBufferAllocator { context.channel.allocator }
    /// Whether the connection stays open after the current answer (the machine's one rule).
    func keepsAlive(mustClose: Bool) -> Bool { machine.keepsAlive(mustClose: mustClose) }
    var loopContext: LoopContext { loop }
    var edgeState: EdgeState { state }

    /// The request body is streaming: (re)arm the `client_body` timeout.
    func bodyActivity() {
        guard bodyTimer == nil else { return }
        armBodyTimer(at: clock.now().advanced(by: machine.timeouts.body))
    }

    func cancelBodyTimer() {
        bodyTimer?.cancel()
        bodyTimer = nil
    }

    private func armBodyTimer(at deadline: Instant) {
        bodyTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: NIODeadline(deadline)) { [weak self] in
            guard let self else { return }
            self.bodyTimer = nil
            guard case .proxying(let exchange) = self.machine.phase else { return }
            switch self.machine.bodyTimerFired(now: self.clock.now(), lastRead: self.activity.lastReadAt, requestEnded: exchange.requestEnded) {
            case .none:
                return
            case .rearm(let next):
                self.armBodyTimer(at: next)
            case .timedOut:
                self.state.logger.debug("request body stalled", [("edge.client", self.peerText), ("request_id", exchange.requestID)])
                exchange.abort()
                if exchange.responseStarted {
                    self.exchangeBroken(exchange)
                } else {
                    self.exchangeFailed(exchange, response: .requestTimeout, mustClose: true)
                }
            }
        }
    }

    // MARK: The wait timer: request head, keep-alive idle, lingering

    private func apply(_ timer: ClientConnection<Exchange>.WaitTimer) {
        switch timer {
        case .arm(let deadline): armWaitTimer(at: deadline)
        case .disarm: waitTimer?.disarm()
        case .unchanged: break
        }
    }

    private func armWaitTimer(at deadline: Instant) {
        if waitTimer == nil {
            waitTimer = LazyTimer(eventLoop: context.eventLoop) { [weak self] in self?.waitExpired() }
        }
        waitTimer!.arm(at: NIODeadline(deadline))
    }

    /// Part of a request head arrived: from its first byte it has `client_header` to complete.
    private func partialHeadArrived() {
        guard let first = activity.firstReadSinceWait else { return }
        apply(machine.headStarted(at: first))
    }

    private func waitExpired() {
        if mode == .http2Stream {
            state.logger.debug("resetting a stream whose client kept its flow-control window shut", [("edge.client", peerText)])
        }
        switch machine.waitExpired() {
        case .close: close()
        case .requestTimeout: writeRawAndClose(.requestTimeout)  // no request exists at the HTTP layer yet
        case .none: break
        }
    }

    /// ``upstreamReadTimer``'s deadline passed: the upstream read timeout, or on an HTTP/2 stream
    /// after its answer, the send deadline (see ``armStreamSendDeadline()``).
    func upstreamDeadlinePassed() {
        if streamAnswerEnded {
            waitExpired()
        } else if case .proxying(let exchange) = machine.phase {
            exchange.readTimedOut()
        }
    }

    func armUpstreamRead(after timeout: TimeAmount) { upstreamReadTimer.arm(at: .now() + timeout) }

    func disarmUpstreamRead() { upstreamReadTimer.disarm() }

    private func cancelTimers() {
        waitTimer?.cancel()
        upstreamReadTimer?.cancel()
        cancelBodyTimer()
        sendTimer?.cancel()
        sendTimer = nil
    }

    func close() {
        // A request still in progress gives its upstream connection back (closed, never reused).
        if let exchange = machine.closed() { abandon(exchange) }
        cancelTimers()
        context?.close(promise: nil)
    }

    /// The connection ends with `exchange` unfinished (the client went away, stopped reading, or
    /// was timed out): the upstream connection is closed, never reused, and the request still
    /// gets its access-log line, with 499 when no response had started (nginx's "client closed
    /// request") and the bytes written so far.
    private func abandon(_ exchange: Exchange) {
        exchange.clientClosed()
        finishRecord(exchange.record, runtime: exchange.runtime)
    }

    private func releaseRequestLease() {
        requestLease?.release()
        requestLease = nil
    }

    /// Closes once everything written so far has reached the socket (the answer was ended
    /// already): an empty write below the HTTP layer completes after every earlier one.
    private func closeWhenWritten(unreadInput: Bool) {
        cancelTimers()
        guard let context else { return }
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenComplete { [weak self] in self?.lingerOrClose($0, unreadInput: unreadInput) }
        if mode == .http1 {
            activity.writeRaw(context.channel.allocator.buffer(capacity: 0), promise: written)
        } else {
            written.succeed(())  // a stream's answer ended with its END_STREAM
        }
    }

    /// The connection's last answer was written (`result`): close without losing it. The machine
    /// decides whether to linger (see ``ClientConnection/lastAnswerWritten(unreadInput:stillOpen:now:)``,
    /// nginx's `lingering_close`); lingering shuts the sending side (after a TLS `close_notify`)
    /// and drops what the client still sends, below the HTTP decoder.
    private func lingerOrClose(_ result: Result<Void, any Error>, unreadInput: Bool) {
        guard case .success = result, let context,
            let deadline = machine.lastAnswerWritten(unreadInput: unreadInput, stillOpen: context.channel.isActive, now: clock.now())
        else {
            close()
            return
        }
        cancelTimers()
        activity.discardsReads = true
        pipelined.removeAll()
        let halfClosed = context.eventLoop.makePromise(of: Void.self)
        halfClosed.futureResult.assumeIsolated().whenFailure { [weak self] _ in self?.close() }
        context.close(mode: .output, promise: halfClosed)
        armWaitTimer(at: deadline)
        context.read()
    }

    // MARK: Access log and metrics

    func finishRecord(_ record: AccessRecord, runtime: EdgeRuntime) {
        releaseRequestLease()
        state.finish(record, shard: loop.index, now: clock.now())
    }
}

extension NIODeadline {
    /// The NIO deadline of an engine instant: both count `CLOCK_MONOTONIC` nanoseconds.
    init(_ instant: Instant) { self = .uptimeNanoseconds(instant.nanoseconds) }
}

/// The timer behind ``ClientHandler``'s upstream read timeout (and an HTTP/2 stream's send
/// deadline): an HTTP/1 connection has its own, which serves all its requests; an HTTP/2
/// stream, which serves one, has an entry on its connection's timer.
enum UpstreamDeadline {
    case own(LazyTimer)
    case stream(HTTP2StreamDeadlines.Entry)

    func arm(at deadline: NIODeadline) {
        switch self {
        case .own(let timer): timer.arm(at: deadline)
        case .stream(let entry): entry.arm(at: deadline)
        }
    }

    func disarm() {
        switch self {
        case .own(let timer): timer.disarm()
        case .stream(let entry): entry.disarm()
        }
    }

    func cancel() {
        switch self {
        case .own(let timer): timer.cancel()
        case .stream(let entry): entry.cancel()
        }
    }
}
