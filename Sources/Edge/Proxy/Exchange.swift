import EdgeRules
import Limits
import NIOCore
import NIOHTTP1

/// One proxied request: choosing a server, connecting (or reusing a pooled connection),
/// streaming the request body up and the response down, retrying on another server when that
/// is safe, and mapping upstream failures to 502/504 in one place.
///
/// The retry rule is ``UpstreamRetryPolicy``'s table: connect failures and connect timeouts go
/// to the next server; a reused idle connection that closes before any response byte is
/// replaced by a new one to the same server without a strike; a new connection that does so is
/// retried elsewhere only for idempotent methods whose whole body the exchange still holds;
/// read and send timeouts answer 504; nothing is retried once the response has started.
final class Exchange: UpstreamExchangeDelegate {
    /// Bodies up to this size are kept until the response starts, so an idempotent request can be replayed.
    static let replayableBodyLimit = 64 * 1024

    private unowned let handler: ClientHandler
    let runtime: EdgeRuntime
    let route: CompiledRoute
    let cluster: Cluster
    let head: HTTPRequestHead
    let requestID: String
    var record: AccessRecord
    /// The request head as sent upstream, serialized once (a retry sends it again).
    private let upstreamHead: ByteBuffer
    /// Whether the body goes up chunked (as it came), so each part is framed.
    private let chunkedBody: Bool
    private let maxBodySize: Int

    /// Attempts, retries and the response's progress: every decision of this exchange.
    private var machine: UpstreamExchangeMachine
    private var tried = TriedServers()
    private var server: UpstreamServer?
    private var connection: UpstreamConnection?
    private var attemptStarted: Instant?
    /// Body parts kept for a replay (and while connecting); `nil` once the body outgrew the limit.
    private var heldBody: [ByteBuffer]? = []
    private var heldBytes = 0
    private var pendingBody: [ByteBuffer] = []
    /// Whether the client's `.end` arrived (the decoder sends one for bodiless requests too).
    var requestEnded: Bool { machine.requestEnded }
    /// Whether a response head went to the client.
    var responseStarted: Bool { machine.responseStarted }
    /// Whether the client connection stays open after this response (decided with its head).
    private var clientKeepAlive = true
    /// Armed while the upstream takes no request bytes (its socket buffer stays full).
    private var sendTimer: Scheduled<Void>?

    init(
        handler: ClientHandler, runtime: EdgeRuntime, route: CompiledRoute, cluster: Cluster, head: HTTPRequestHead,
        waitsForEnd: Bool, requestID: String, record: AccessRecord, peerText: String, peerTrusted: Bool, scheme: String
    ) {
        self.handler = handler
        self.runtime = runtime
        self.route = route
        self.cluster = cluster
        self.head = head
        self.requestID = requestID
        self.record = record
        self.record.userAgent = head.headers.first(name: "user-agent")
        self.record.referer = head.headers.first(name: "referer")
        self.maxBodySize = runtime.config.limits.maxBodySize
        let idempotent: Bool
        switch head.method {
        case .GET, .HEAD, .PUT, .DELETE, .OPTIONS, .TRACE: idempotent = true
        default: idempotent = false
        }
        chunkedBody = head.headers.contains(name: "transfer-encoding")
        let upgrade = head.headers.first(name: "upgrade").flatMap { value in
            head.headers["connection"].contains { $0.lowercased().contains("upgrade") } ? value : nil
        }
        // A request without a body goes upstream once its `.end` has arrived (the decoder
        // delivers it right behind the head): head and end then leave in one write with one
        // flush, and no body timer runs. So does an HTTP/2 request with a small declared body.
        machine = UpstreamExchangeMachine(waitsForEnd: waitsForEnd, idempotent: idempotent, upgradeRequested: upgrade != nil)
        upstreamHead = HeaderRewriting.upstreamRequestBytes(
            head, clientAddress: record.client, peerAddress: peerText, fromTrustedPeer: peerTrusted, scheme: scheme,
            requestID: requestID, upgrade: upgrade, allocator: handler.allocator)
    }

    // MARK: Attempts

    func start() {
        if machine.start() { attempt() }
    }

    private func attempt() {
        guard !machine.isFinished else { return }
        let loop = handler.loopContext
        let now = MonotonicClock().now()
        guard tried.count <= cluster.config.maxRetries, let server = cluster.choose(tried: tried, now: now, random: &loop.random) else {
            if let status = machine.exhausted() { fail(status) }
            return
        }
        tried.insert(server.index)
        begin(on: server, reuse: true)
    }

    /// Starts an attempt on `server`: on an idle pooled connection when `reuse` allows one,
    /// else on a new connection.
    private func begin(on server: UpstreamServer, reuse: Bool) {
        let loop = handler.loopContext
        self.server = server
        server.inFlight.add(1, ordering: .relaxed)
        attemptStarted = MonotonicClock().now()
        record.upstream = server.addressText
        if reuse, let idle = loop.pool.takeIdle(for: server) {
            machine.attemptBegan(reused: true)
            use(idle)
            return
        }
        machine.attemptBegan(reused: false)
        loop.pool.connect(to: server, timeout: route.connectTimeout).assumeIsolated().whenComplete { [self] result in
            guard !machine.isFinished, self.server === server else {
                if case .success(let connection) = result { connection.close() }
                return
            }
            switch result {
            case .success(let connection):
                use(connection)
            case .failure(let error):
                if case ChannelError.connectTimeout = error {
                    attemptFailed(.connectTimedOut, error: error)
                } else {
                    attemptFailed(.connectFailed, error: error)
                }
            }
        }
    }

    private func use(_ connection: UpstreamConnection) {
        self.connection = connection
        connection.handler.delegate = self
        connection.requestsServed += 1
        machine.connected()
        connection.writeHead(upstreamHead, method: head.method)
        // `heldBody`, while kept, is everything received so far (a replay resends it whole);
        // otherwise `pendingBody` is what arrived before any connection took it.
        for part in heldBody ?? pendingBody { writeBody(part, to: connection) }
        pendingBody.removeAll()
        if requestEnded { writeEnd(to: connection) }
        connection.flush()
        armReadTimer()
        if !requestEnded {
            handler.setReadsPaused(!connection.channel.isWritable)
            handler.bodyActivity()
        }
    }

    private func attemptFailed(_ failure: UpstreamRetryPolicy.Failure, error: any Error) {
        let decision = machine.attemptFailed(failure, replayable: heldBody != nil)
        let strike: Bool
        switch decision {
        case .nextServer(let counts), .fail(_, let counts), .broken(let counts): strike = counts
        case .reconnect: strike = false
        case .ignored: return
        }
        let failedServer = server
        if let server {
            server.inFlight.add(-1, ordering: .relaxed)
            if strike {
                let now = MonotonicClock().now()
                server.health.withLock { $0.requestFailed(now: now) }
                handler.edgeState.metrics.recordUpstreamFailure(shard: handler.loopContext.index, upstream: cluster.name)
            }
            handler.edgeState.logger.log(
                strike ? .warning : .debug, strike ? "upstream attempt failed" : "a reused upstream connection had closed; reconnecting",
                [("edge.upstream", cluster.name), ("edge.server", server.addressText),
                 ("request_id", requestID), ("error", "\(error)")])
        }
        server = nil
        cancelSendTimer()
        handler.disarmUpstreamRead()
        if let connection {
            connection.handler.delegate = nil
            connection.close()
            self.connection = nil
        }
        switch decision {
        case .broken:
            handler.exchangeBroken(self)
        case .reconnect:
            if let failedServer {
                begin(on: failedServer, reuse: false)
            } else {
                attempt()
            }
        case .nextServer:
            attempt()
        case .fail(let status, _):
            fail(status)
        case .ignored:
            break
        }
    }

    /// Answers the client with 502 or 504 (the machine has finished the exchange).
    private func fail(_ status: Int) {
        cancelSendTimer()
        handler.disarmUpstreamRead()
        handler.exchangeFailed(self, response: status == 504 ? .gatewayTimeout : .badGateway, mustClose: !requestEnded)
    }

    /// Stops the exchange: the upstream connection is closed, never reused; with a TCP reset
    /// when the request sent so far is cut short (see ``UpstreamConnection/reset()``).
    func abort() {
        guard machine.abort() else { return }
        cancelSendTimer()
        handler.disarmUpstreamRead()
        if let server { server.inFlight.add(-1, ordering: .relaxed) }
        server = nil
        if let connection {
            connection.handler.delegate = nil
            if requestEnded { connection.close() } else { connection.reset() }
            self.connection = nil
        }
    }

    func clientClosed() {
        if !machine.isFinished, record.status == 0 { record.status = 499 }
        abort()
    }

    // MARK: Request body from the client

    func clientBody(_ body: ByteBuffer) {
        guard !machine.isFinished else { return }
        record.bytesIn += body.readableBytes
        if record.bytesIn > maxBodySize {
            // A chunked body that outgrew the limit while streaming.
            abort()
            if responseStarted {
                handler.exchangeBroken(self)
            } else {
                handler.exchangeFailed(self, response: .payloadTooLarge, mustClose: true)
            }
            return
        }
        if heldBody != nil {
            heldBytes += body.readableBytes
            if heldBytes <= Self.replayableBodyLimit { heldBody!.append(body) } else { heldBody = nil }
        }
        handler.bodyActivity()
        if machine.isConnected, let connection {
            writeBody(body, to: connection)
            if !connection.channel.isWritable { handler.setReadsPaused(true) }
        } else {
            pendingBody.append(body)
        }
    }

    func clientEnd() {
        guard !machine.isFinished else { return }
        handler.cancelBodyTimer()
        switch machine.requestEnd() {
        case .startAttempt:
            attempt()
        case .forwardEnd:
            if let connection {
                writeEnd(to: connection)
                connection.flush()
            }
        case .none:
            break
        }
    }

    /// A part of the request body, framed as a chunk when the body goes up chunked.
    private func writeBody(_ part: ByteBuffer, to connection: UpstreamConnection) {
        guard part.readableBytes > 0 else { return }  // an empty chunk would end the body
        guard chunkedBody else {
            connection.write(part)
            return
        }
        var size = handler.allocator.buffer(capacity: 18)
        size.writeChunkSize(part.readableBytes)
        connection.write(size)
        connection.write(part)
        connection.write(Self.crlf)
    }

    /// The end of the request: the last chunk of a chunked body (trailers are not forwarded).
    private func writeEnd(to connection: UpstreamConnection) {
        if chunkedBody { connection.write(Self.lastChunk) }
    }

    private static let crlf = ByteBuffer(string: "\r\n")
    private static let lastChunk = ByteBuffer(string: "0\r\n\r\n")

    func clientReadComplete() {
        if machine.isConnected, let connection { connection.flush() }
    }

    func clientWritabilityChanged(isWritable: Bool) {
        connection?.setReadsPaused(!isWritable)
    }

    // MARK: Response from the upstream

    func upstreamResponseHead(_ upstream: HTTPResponseHead) {
        guard !machine.isFinished else { return }
        _ = machine.responseHead(status: Int(upstream.status.code))
        cancelSendTimer()
        heldBody = nil
        if let server {
            server.health.withLock { $0.requestSucceeded() }
        }
        if let attemptStarted {
            record.upstreamSeconds = Double(MonotonicClock().now().duration(since: attemptStarted).nanosecondsClamped) / 1e9
        }
        // After an upgrade request the decoder parses no more requests on this connection, so a
        // refused upgrade closes it once answered. An HTTP/1.0 client cannot take a chunked body:
        // a body of unknown length is sent as is and ended by closing.
        let unframedForHTTP10 = ResponseFraming(status: Int(upstream.status.code), isHEAD: head.method == .HEAD)
            .endsByClose(hasContentLength: upstream.headers.contains(name: "content-length"), clientIsHTTP11: head.version != .http1_0)
        clientKeepAlive = handler.keepsAlive(mustClose: machine.upgradeRequested || unframedForHTTP10)
        let version: HTTPVersion = head.version == .http1_0 ? .http1_0 : .http1_1
        let headers = ClientResponseHeaders(
            upstream: upstream, remove: runtime.removeFromUpstream, decorations: handler.decorations(for: route, runtime),
            requestID: requestID, keepAlive: clientKeepAlive, version: version)
        record.status = Int(upstream.status.code)
        handler.writeResponseHead(
            status: upstream.status, version: version, headers: headers,
            compressible: CompressionMarker.isCompressible(
                upstream.headers, status: upstream.status, isHEAD: head.method == .HEAD, routeCompresses: route.config.compress))
        armReadTimer()
    }

    func upstreamResponseBody(_ body: ByteBuffer) {
        guard !machine.isFinished else { return }
        record.bytesOut += body.readableBytes
        handler.writeResponseBody(body)
        if !handler.clientIsWritable {
            // Pause first: the flush may drain the buffer and report writability at once, and
            // that resume must find the pause already in place, or it is lost.
            connection?.setReadsPaused(true)
            handler.flushResponse()
            if handler.clientIsWritable { connection?.setReadsPaused(false) }
        }
        armReadTimer()
    }

    func upstreamReadComplete() {
        if !machine.isFinished { handler.flushResponse() }
    }

    func upstreamResponseEnd() {
        let end = machine.responseEnd(upstreamKeepsConnection: connection?.handler.isReusable ?? false)
        if end == .ignored { return }
        handler.disarmUpstreamRead()
        if let server { server.inFlight.add(-1, ordering: .relaxed) }
        if end == .tunnel, let connection {
            self.connection = nil
            handler.flushResponse()
            // The `.end` of a 101 arrives from inside the upstream decoder's parse; the switch
            // removes that decoder, so it runs once the parse has returned, when the decoder can
            // hand over the bytes that came right behind the 101.
            handler.loopContext.eventLoop.assumeIsolated().execute { [self] in
                handler.switchToTunnel(self, upstream: connection)
            }
            return
        }
        if let connection {
            // Reusable only when both messages completed and the upstream keeps the connection.
            if end == .finished(reuseConnection: true) {
                handler.loopContext.pool.release(connection, keepAlive: cluster.config.keepAlive)
            } else {
                connection.handler.delegate = nil
                connection.close()
            }
            self.connection = nil
        }
        handler.exchangeFinished(self, keepAlive: clientKeepAlive && requestEnded)
    }

    func upstreamExchangeFailed(_ error: any Error) {
        // Whether the connection came from the idle pool is the machine's to know.
        attemptFailed(.closedBeforeResponse(reusedConnection: false), error: error)
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if !requestEnded { handler.setReadsPaused(!isWritable) }
        if isWritable {
            cancelSendTimer()
        } else if sendTimer == nil, !machine.isFinished, !responseStarted {
            // The upstream stopped taking the request (its receive buffer is full): give it the
            // route's `send_timeout` to take more, as nginx's `proxy_send_timeout`.
            sendTimer = handler.loopContext.eventLoop.assumeIsolated().scheduleTask(in: route.sendTimeout) { [weak self] in
                guard let self, !self.machine.isFinished, !self.responseStarted else { return }
                self.sendTimer = nil
                self.attemptFailed(.sendTimedOut, error: UpstreamTimeout(after: self.route.sendTimeout, sending: true))
            }
        }
    }

    private func cancelSendTimer() {
        sendTimer?.cancel()
        sendTimer = nil
    }

    /// The route's read timeout runs for the response head, then between two reads of the body;
    /// the timer is the connection's, re-armed by a store per read.
    private func armReadTimer() {
        handler.armUpstreamRead(after: route.readTimeout)
    }

    /// The upstream was silent for the route's read timeout.
    func readTimedOut() {
        guard !machine.isFinished else { return }
        attemptFailed(.readTimedOut, error: UpstreamTimeout(after: route.readTimeout))
    }
}

/// The upstream did not answer (or went silent mid-response) within the route's read timeout.
struct UpstreamTimeout: Error, CustomStringConvertible {
    let after: TimeAmount
    /// Whether the upstream stopped taking the request (`send_timeout`) rather than answering it.
    var sending = false
    var description: String {
        sending
            ? "the upstream took no request bytes for \(Double(after.nanoseconds) / 1e9) s"
            : "no data from the upstream for \(Double(after.nanoseconds) / 1e9) s"
    }
}
