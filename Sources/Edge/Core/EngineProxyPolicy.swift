import EdgeIO
import EdgeIOProxy
import Limits
import ServerSupport
import Synchronization

/// The edge's engine as the I/O core's proxy policy: the same ``FilterChain`` decides each
/// request the core parsed (through ``CoreRequestHead``), the same header rules rewrite both
/// heads, the same answers (``AnswerContent``) come back for what the edge answers itself, and
/// the same access log, metrics, limits and balancing apply. One value per core loop, used only
/// on that loop's thread. Strict shared zones (``EngineProxyPolicy+SharedZone``) and gzip
/// (``compressesResponse(_:in:tag:)``) live in extensions of their own.
struct EngineProxyPolicy: ProxyPolicy {
    /// An exchange in flight: what its later calls (`writeRequestFields`, the response head,
    /// its end) need from its decision.
    struct Exchange {
        var runtime: EdgeRuntime
        var route: CompiledRoute
        var cluster: Cluster
        /// The server of the current attempt, and those tried before it.
        var server: UpstreamServer
        var tried: TriedServers
        var requestID: RequestID
        var record: AccessRecord
        var requestLease: ConnectionLease?
        /// A trusted peer's `X-Forwarded-For` values, joined, that ours extends.
        var forwardedFor: String
        var keepsForwardedProto: Bool
        var originFormTarget: String?
        /// The route compresses and the client takes gzip (``compressesResponse(_:in:tag:)``).
        var compresses = false
    }

    /// What the policy knows of a client connection, by the connection's slot index.
    struct Connection {
        var generation: UInt32 = 0
        var peer = ClientKey(ipv4: 0)
        var peerText = ""
        var trusted = false
        var overLimit = false
        var lease: ConnectionLease?
    }

    let state: EdgeState
    let loopIndex: Int
    let secure: Bool
    /// A plain listener's redirect to HTTPS (and ACME challenges).
    let httpsRedirect: HTTPSRedirect?
    let clock = MonotonicClock()
    var random: SplitMix64
    /// The runtime this loop's requests use, and the ``EdgeState/runtimeVersion`` it was read at.
    var runtime: EdgeRuntime
    var runtimeVersion: Int
    /// The per-client connection cap in force, read with the runtime (a reload replaces the
    /// cap before it swaps the runtime): `EdgeState`'s is behind a lock both loops would take
    /// per request.
    var connectionLimiter: ConnectionLimiter?
    var connections: [Connection] = []
    var exchanges: [Exchange?] = []
    var freeExchanges: [Int] = []
    /// Upstream addresses in the order the core's pools know them (append-only: a reload's new
    /// servers get new indexes, old indexes stay valid for connections still pooled).
    var addresses: [EdgeIO.SocketAddress] = []
    var addressIndex: [EndpointAddress: Int] = [:]
    /// Per runtime, each server's address index, so a request does not hash an address.
    var serverIndexes: [ObjectIdentifier: Int] = [:]
    var serverIndexesFor: ObjectIdentifier?
    /// Whether the request being forwarded came from a trusted proxy (its forwarding claims
    /// are kept). Valid from `decide` to `writeRequestFields` of one request.
    var currentTrusted = false
    /// Requests waiting for a strict shared zone's store, by ``waitKey(_:stream:)`` (an HTTP/1.x
    /// connection has at most one: its request waits unread; an HTTP/2 one, one per stream).
    var sharedZoneWaits: [UInt64: SharedZoneWait] = [:]
    var sharedZoneAsks: UInt64 = 0
    /// Posts an event to this policy's loop (the store's answers come from its sync thread).
    let post: @Sendable (Event) -> Void

    init(
        state: EdgeState, loopIndex: Int, secure: Bool, httpsRedirect: HTTPSRedirect? = nil, seed: UInt64,
        post: @escaping @Sendable (Event) -> Void = { _ in }
    ) {
        self.state = state
        self.loopIndex = loopIndex
        self.secure = secure
        self.httpsRedirect = httpsRedirect
        self.post = post
        connections.reserveCapacity(LoopIO.reservedConnections)
        random = SplitMix64(seed: seed)
        runtimeVersion = state.runtimeVersion.load(ordering: .acquiring)
        runtime = state.runtime
        connectionLimiter = state.connectionLimiter
    }

    /// The runtime in force (and with it ``connectionLimiter``): the one read before, unless a
    /// reload swapped in another since.
    mutating func currentRuntime() -> EdgeRuntime {
        let version = state.runtimeVersion.load(ordering: .acquiring)
        if version != runtimeVersion {
            // Read the version first: a swap between the two reads makes the next request look again.
            runtimeVersion = version
            runtime = state.runtime
            connectionLimiter = state.connectionLimiter
        }
        return runtime
    }

    // MARK: Connections

    mutating func tlsHandshakeCompleted(http2: Bool, resumed: Bool) {
        state.metrics.recordHandshake(shard: loopIndex, protocol: http2 ? "h2" : "http/1.1", resumed: resumed)
    }

    mutating func tlsHandshakeFailed(_ failure: TLSHandshakeFailure) {
        state.metrics.recordHandshakeFailure(shard: loopIndex, reason: failure.rawValue)
    }

    mutating func connectionOpened(_ client: ClientContext) {
        let index = Int(client.connection.index)
        while connections.count <= index { connections.append(Connection()) }
        let text = String(decoding: client.address, as: UTF8.self)
        let peer = ClientKey(parsing: text) ?? ClientKey(ipv4: 0)
        var connection = Connection(generation: client.connection.generation, peer: peer, peerText: text)
        connection.trusted = ClientAddress.isTrusted(peer, currentRuntime().config.trustedProxies)
        state.metrics.openConnections.add(1, ordering: .relaxed)
        // A trusted proxy multiplexes many clients on its connections: cap the clients, not it.
        if let limiter = connectionLimiter, !connection.trusted {
            switch limiter.acquire(peer) {
            case .acquired(let lease): connection.lease = lease
            case .rejected:
                connection.overLimit = true
                state.metrics.recordConnectionLimited(shard: loopIndex)
            }
        }
        connections[index] = connection
    }

    mutating func connectionClosed(_ client: ClientContext) {
        let index = Int(client.connection.index)
        guard index < connections.count, connections[index].generation == client.connection.generation else { return }
        abandonSharedZoneWaits(client.connection)
        _ = connections[index].lease?.release()
        connections[index] = Connection()
        state.metrics.openConnections.add(-1, ordering: .relaxed)
    }

    // MARK: Decisions

    mutating func decide(
        _ request: EdgeIOProxy.HTTPRequestHead, in input: UnsafeRawBufferPointer, client: ClientContext, answer: inout HeadWriter
    ) -> ProxyDecision {
        // The connection's fields are read in place: a copy of its record would retain and
        // release its text and lease per request.
        let connectionIndex = Int(client.connection.index)
        let peer = connections[connectionIndex].peer
        let peerTrusted = connections[connectionIndex].trusted
        let head = CoreRequestHead(head: request, input: input)
        let now = clock.now()
        var verdict: RequestVerdict
        var runtime = currentRuntime()
        var started = now
        if let wait = resumedSharedZoneWait(client) {
            // Read again after its store answered (or did not, in time): the chain goes on.
            verdict = FilterChain.resume(head, verdict: wait.verdict, question: wait.question, answer: wait.answer ?? .unavailable, now: now)
            runtime = wait.runtime
            started = wait.started
        } else {
            let context = FilterChain.Connection(
                peer: peer, peerTrusted: peerTrusted, isHTTP2Stream: client.http2,
                overConnectionLimit: connections[connectionIndex].overLimit, httpsRedirect: httpsRedirect)
            verdict = FilterChain.decide(
                head, on: context, runtime: runtime, connectionLimiter: connectionLimiter, now: now, random: &random)
        }
        if case .askSharedZone = verdict.decision,
            let milliseconds = askSharedZone(&verdict, head: head, client: client, runtime: runtime, started: started, now: now)
        {
            return .decideLater(milliseconds: milliseconds)
        }
        switch verdict.refusedBy {
        case .connectionLimit: state.metrics.recordConnectionLimited(shard: loopIndex)
        case .rateLimit(let zone): state.metrics.recordRateLimited(shard: loopIndex, zone: zone)
        case nil: break
        }
        switch verdict.decision {
        case .answer(let local, let route, let close):
            var record = accessRecord(verdict, head: head, peer: peer, connectionIndex: connectionIndex, started: started)
            let redirect = httpsRedirect
            let content = AnswerContent(local, limits: runtime.config.limits) {
                guard let redirect else { preconditionFailure("an HTTPS redirect decided on a listener without one") }
                return redirect.redirect(
                    isGETOrHEAD: request.isHEAD || head.methodName == "GET", host: head.first("host"),
                    target: verdict.target)
            }
            let closes = close || request.answerCloses(received: input.count)
            let decorations = Self.decorations(route: route, runtime: runtime, secure: secure)
            record.status = content.status
            record.bytesOut = Self.write(
                content, requestID: verdict.requestID, decorations: decorations, isHEAD: request.isHEAD, closes: closes,
                http10: request.minorVersion == 0, into: &answer)
            _ = verdict.requestLease?.release()
            finish(record)
            return .answered(close: closes)
        case .proxy(let route, let cluster, let delay):
            guard let server = cluster.choose(tried: TriedServers(), now: now, random: &random) else {
                preconditionFailure("a cluster chose no server on a request's first try")
            }
            let upstream = upstreamIndex(of: server, runtime: runtime)
            server.inFlight.add(1, shard: loopIndex)
            currentTrusted = peerTrusted
            var tried = TriedServers()
            tried.insert(server.index)
            let tag = freeExchanges.popLast() ?? exchanges.count
            if tag == exchanges.count { exchanges.append(nil) }
            // Made in its slot, its record too: a local value moved in would be copied and
            // destroyed (a retain and a release of each of its references and strings).
            exchanges[tag] = Exchange(
                runtime: runtime, route: route, cluster: cluster, server: server, tried: tried, requestID: verdict.requestID,
                record: accessRecord(
                    verdict, head: head, peer: peer, connectionIndex: connectionIndex, started: started,
                    upstream: server.addressText),
                requestLease: verdict.requestLease,
                forwardedFor: peerTrusted ? head.values("x-forwarded-for").joined(separator: ", ") : "",
                keepsForwardedProto: peerTrusted && head.contains("x-forwarded-proto"),
                originFormTarget: verdict.originFormTarget)
            if route.config.compress { exchanges[tag]!.compresses = request.acceptsGzip(in: input) }
            guard delay > .zero else { return .forward(upstream: upstream, tag: UInt64(tag)) }
            return .forwardAfter(milliseconds: max(1, delay.wholeMilliseconds), upstream: upstream, tag: UInt64(tag))
        case .serveStatic(let config, let relative, let route):
            var record = accessRecord(verdict, head: head, peer: peer, connectionIndex: connectionIndex, started: started)
            let decision = serveStatic(
                config: config, relative: relative, route: route, request: request, head: head, input: input,
                requestID: verdict.requestID, runtime: runtime, record: &record, answer: &answer)
            _ = verdict.requestLease?.release()
            finish(record)
            return decision
        case .askSharedZone:
            preconditionFailure("a strict shared zone's question left unasked: \(verdict.decision)")
        }
    }

    /// The request's access-log record as far as the decision knows it.
    private func accessRecord(
        _ verdict: RequestVerdict, head: CoreRequestHead, peer: ClientKey, connectionIndex: Int, started: Instant,
        upstream: String? = nil
    ) -> AccessRecord {
        var record = AccessRecord(
            requestID: verdict.requestID, client: verdict.client == peer ? connections[connectionIndex].peerText : verdict.client.description,
            method: head.methodName, target: verdict.target, started: started)
        record.route = verdict.routeLabel
        record.limitOutcome = verdict.limitOutcome
        record.logged = verdict.logged
        record.upstream = upstream
        if verdict.logged && state.accessLog.isEnabled {
            record.userAgent = head.first("user-agent")
            record.referer = head.first("referer")
        }
        return record
    }

    func upstreamAddress(_ index: Int) -> EdgeIO.SocketAddress { addresses[index] }

    // MARK: Retries and passive health

    /// The next server of the exchange's pool: up to the pool's `max_retries` more tries,
    /// servers not tried yet, healthy ones first.
    mutating func nextUpstream(tag: UInt64, afterFailure: Bool) -> Int? {
        guard var exchange = exchanges[Int(tag)] else { return nil }
        let now = clock.now()
        if afterFailure { strike(exchange.server, cluster: exchange.cluster, now: now) }
        guard exchange.tried.count <= exchange.cluster.config.maxRetries,
            let next = exchange.cluster.choose(tried: exchange.tried, now: now, random: &random)
        else { return nil }
        exchange.server.inFlight.add(-1, shard: loopIndex)
        next.inFlight.add(1, shard: loopIndex)
        exchange.tried.insert(next.index)
        exchange.server = next
        exchange.record.upstream = next.addressText
        exchanges[Int(tag)] = exchange
        return upstreamIndex(of: next, runtime: exchange.runtime)
    }

    /// The route's (else its upstream's) `connect_timeout`, `send_timeout` and `read_timeout`.
    mutating func upstreamTimeouts(tag: UInt64) -> (connect: UInt64, send: UInt64, response: UInt64)? {
        var timeouts: (connect: UInt64, send: UInt64, response: UInt64)?
        withExchange(tag) { timeouts = $0.route.timeoutMilliseconds }
        return timeouts
    }

    mutating func upstreamFailed(tag: UInt64) {
        guard let exchange = exchanges[Int(tag)] else { return }
        strike(exchange.server, cluster: exchange.cluster, now: clock.now())
    }

    /// A passive health failure against `server` (`max_fails` within `fail_timeout`).
    func strike(_ server: UpstreamServer, cluster: Cluster, now: Instant) {
        server.requestFailed(now: now)
        state.metrics.recordUpstreamFailure(shard: loopIndex, upstream: cluster.name)
    }

    /// The core's index of `server`'s address, made on first use.
    mutating func upstreamIndex(of server: UpstreamServer, runtime: EdgeRuntime) -> Int {
        let runtimeID = ObjectIdentifier(runtime)
        if serverIndexesFor != runtimeID {
            serverIndexes = [:]
            serverIndexesFor = runtimeID
        }
        if let index = serverIndexes[ObjectIdentifier(server)] { return index }
        let key = server.config.address
        let index: Int
        if let known = addressIndex[key] {
            index = known
        } else {
            index = addresses.count
            addresses.append(server.address)
            addressIndex[key] = index
        }
        serverIndexes[ObjectIdentifier(server)] = index
        return index
    }

    // MARK: The request head sent upstream

    mutating func writeRequestLine(
        _ request: EdgeIOProxy.HTTPRequestHead, in input: UnsafeRawBufferPointer, tag: UInt64, into writer: inout HeadWriter
    ) -> Bool {
        // Upstream requests go in origin form and HTTP/1.1 (as nginx's `proxy_http_version
        // 1.1`), an HTTP/1.0 client's too: the upstream connection stays reusable, and the
        // core takes the chunked coding off a body it answers to a 1.0 client.
        // Read in place (``withExchange(_:_:)``): optional chaining through the array copied
        // the whole exchange, a retain and a release of each of its references.
        var rewrote = false
        withExchange(tag) { exchange in
            guard let origin = exchange.originFormTarget else { return }
            writer.append(UnsafeRawBufferPointer(rebasing: input[request.start..<request.methodEnd]))
            writer.append(" ")
            writer.append(origin)
            writer.append(" HTTP/1.1\r\n")
            rewrote = true
        }
        return rewrote
    }

    func dropsRequestField(_ name: UnsafeRawBufferPointer) -> Bool {
        HeaderRewriting.setUpstream.contains(name) || HeaderRewriting.alsoHopByHop.contains(name)
            || (!currentTrusted && HeaderRewriting.trustedOnly.contains(name))
    }

    mutating func writeRequestFields(
        _ request: EdgeIOProxy.HTTPRequestHead, in input: UnsafeRawBufferPointer, client: ClientContext, tag: UInt64,
        into writer: inout HeadWriter
    ) {
        let secure = self.secure
        let peer = connections[Int(client.connection.index)].peerText
        withExchange(tag) { exchange in
            writer.append("X-Real-IP: ")
            writer.append(exchange.record.client)  // the real client's address
            writer.append("\r\nX-Forwarded-For: ")
            if !exchange.forwardedFor.isEmpty {
                writer.append(exchange.forwardedFor)
                writer.append(", ")
            }
            writer.append(peer)
            if !exchange.keepsForwardedProto {
                writer.append(secure ? "\r\nX-Forwarded-Proto: https" : "\r\nX-Forwarded-Proto: http")
            }
            writer.append("\r\nX-Request-ID: ")
            exchange.requestID.withBytes { writer.append($0) }
            writer.append("\r\n")
        }
    }

    /// Runs `body` on the exchange in place (an exchange holds a dozen references: a copy per
    /// call would retain and release each).
    @inline(__always)
    mutating func withExchange(_ tag: UInt64, _ body: (inout Exchange) -> Void) {
        let index = Int(tag)
        guard index < exchanges.count, exchanges[index] != nil else { return }
        body(&exchanges[index]!)
    }

    // MARK: The response head sent to the client

    mutating func dropsResponseField(_ name: UnsafeRawBufferPointer, tag: UInt64) -> Bool {
        // Asked once per response field: one set, read in place (a copy of the decorations or
        // of the exchange would retain and release each of their references per field).
        let secure = self.secure
        var drops = false
        withExchange(tag) { exchange in
            drops = secure ? exchange.route.secureResponseDrops.contains(name) : exchange.route.responseDrops.contains(name)
        }
        return drops
    }

    mutating func writeResponseFields(status: Int, client: ClientContext, tag: UInt64, into writer: inout HeadWriter) {
        let secure = self.secure
        withExchange(tag) { exchange in
            // A response head: the server answered (its failure count starts again).
            exchange.server.requestSucceeded()
            if secure {
                exchange.route.secureDecorations.serialized.withUnsafeBytes { writer.append($0) }
            } else {
                exchange.route.decorations.serialized.withUnsafeBytes { writer.append($0) }
            }
            writer.append("X-Request-ID: ")
            exchange.requestID.withBytes { writer.append($0) }
            writer.append("\r\n")
        }
    }

    mutating func exchangeEnded(client: ClientContext, tag: UInt64, status: Int, bodyBytes: Int, requestBytes: Int) {
        let index = Int(tag)
        guard var exchange = exchanges[index].take() else { return }
        freeExchanges.append(index)
        exchange.server.inFlight.add(-1, shard: loopIndex)
        _ = exchange.requestLease?.release()
        exchange.record.status = status
        exchange.record.bytesOut = bodyBytes
        exchange.record.bytesIn = requestBytes
        finish(exchange.record)
    }

    /// The core's own answers (a malformed head, an upstream that failed or took too long), in
    /// the envelope and with the decorations, as the edge's other answers.
    mutating func writeAnswer(
        status: Int, tag: UInt64?, client: ClientContext, close: Bool, http10: Bool, into writer: inout HeadWriter
    ) -> Bool {
        let exchange = tag.flatMap { exchanges[Int($0)] }
        let runtime = exchange?.runtime ?? currentRuntime()
        let requestID = exchange?.requestID ?? RequestID.generate(using: &random)
        let message: String
        switch status {
        case 400: message = "malformed request"
        case 413: message = "request body too large"
        case 431: message = "request header fields too large"
        case 502: message = "no upstream server answered"
        case 504: message = "the upstream server did not answer in time"
        case 408: message = "request not received in time"
        default: message = "the edge could not complete the request"
        }
        _ = Self.write(
            .error(status, message), requestID: requestID,
            decorations: Self.decorations(route: exchange?.route, runtime: runtime, secure: secure), isHEAD: false,
            closes: close, http10: http10, into: &writer)
        return true
    }

    func finish(_ record: AccessRecord) {
        state.finish(record, shard: loopIndex, now: clock.now())
    }

    // MARK: Helpers

    static func decorations(route: CompiledRoute?, runtime: EdgeRuntime, secure: Bool) -> ResponseDecorations {
        if let route { return secure ? route.secureDecorations : route.decorations }
        return secure ? runtime.secureBaseDecorations : runtime.baseDecorations
    }

    /// Writes a whole local answer as HTTP/1.1 (the core turns it into an HTTP/2 header block
    /// for a stream): status line, the answer's fields, the decorations, the request ID,
    /// `Content-Length`, `Connection` as the client's version needs it, the body (none for HEAD).
    /// - Returns: the body's length.
    static func write(
        _ content: AnswerContent, requestID: RequestID, decorations: ResponseDecorations, isHEAD: Bool, closes: Bool,
        http10: Bool, into writer: inout HeadWriter
    ) -> Int {
        let body: String
        switch content.body {
        case .text(let text): body = text
        case .envelope(let code, let message): body = errorEnvelopeJSON(code: code, message: message, requestID: requestID.description)
        }
        writeHead(
            status: content.status, fields: content.fields, requestID: requestID, decorations: decorations,
            contentLength: body.utf8.count, closes: closes, http10: http10, into: &writer)
        if !isHEAD { writer.append(body) }
        return isHEAD ? 0 : body.utf8.count
    }
}

extension EngineProxyPolicy {
    /// Writes an answer's head as HTTP/1.1: status line, `fields` (those the decorations
    /// replace left out), the decorations, the request ID, `Content-Length` (unless `nil`, as
    /// for 304), `Connection` as the client's version needs it, the blank line.
    static func writeHead(
        status: Int, fields: [AnswerContent.Field], requestID: RequestID, decorations: ResponseDecorations, contentLength: Int?,
        closes: Bool, http10: Bool, into writer: inout HeadWriter
    ) {
        writer.append("HTTP/1.1 ")
        writer.appendDecimal(status)
        writer.append(" ")
        writer.append(ReasonPhrase.of(status))
        writer.append("\r\n")
        for field in fields where !decorations.replaces(field.name) {
            writer.append(field.name)
            writer.append(": ")
            writer.append(field.value)
            writer.append("\r\n")
        }
        decorations.serialized.withUnsafeBytes { writer.append($0) }
        writer.append("X-Request-ID: ")
        requestID.withBytes { writer.append($0) }
        if let contentLength {
            writer.append("\r\nContent-Length: ")
            writer.appendDecimal(contentLength)
        }
        if http10 {
            writer.append(closes ? "\r\n\r\n" : "\r\nConnection: keep-alive\r\n\r\n")
        } else {
            writer.append(closes ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n")
        }
    }
}

extension HeadWriter {
    /// Appends a string's UTF-8 bytes.
    mutating func append(_ text: String) {
        // A native string's bytes in place: a `var` copy to call `withUTF8` retained it.
        if text.utf8.withContiguousStorageIfAvailable({ append(UnsafeRawBufferPointer($0)) }) != nil { return }
        var copy = text
        copy.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }
}

extension HeaderNameSet {
    /// Whether a field name given as bytes (any case) is in the set.
    func contains(_ name: UnsafeRawBufferPointer) -> Bool {
        contains(bytes: name)
    }
}
