import EdgeIO
import EdgeRules

/// A minimal HTTP/1.1 reverse proxy on the I/O core: the I/O half of the edge's proxy path.
///
/// Each client connection and each upstream connection is a slot of the loop's table; the
/// handler's own table (``Entry``, indexed like the slots) pairs a client slot with the
/// upstream slot serving its current exchange. Upstream connections come from per-loop,
/// per-upstream LIFO keep-alive pools (``UpstreamPool``) or are connected on demand (TCP or
/// Unix socket). Heads are parsed in place in the loop's input buffer and rewritten into one
/// per-loop buffer; each head goes out in one `writev` with the body bytes that came with it,
/// so a small keep-alive request costs 2 reads and 2 writes. Bodies are relayed as they
/// arrive, framed by Content-Length or the chunked coding (tracked, never re-coded), with
/// backpressure: a side whose output backs up pauses the other side's reading.
///
/// Every decision (where to send a request, which fields to add or drop, local answers) is a
/// call into ``ProxyPolicy``; nothing here decides anything else than HTTP/1.1 framing and
/// connection reuse.
public struct ProxyHandler<Policy: ProxyPolicy>: EventLoopHandler {
    public struct Configuration: Sendable {
        /// Idle connections kept per upstream per loop.
        public var keepAlivePerUpstream: Int
        /// Milliseconds a client connection may stay idle between requests.
        public var clientIdleTimeout: UInt64
        /// Milliseconds an upstream may take to connect, and then to send its response head
        /// (else 504), unless the policy says per exchange (``ProxyPolicy/upstreamTimeouts(tag:)``).
        public var upstreamTimeout: UInt64
        /// Milliseconds a request head may take from its first byte (and a new connection to
        /// its first head) before 408 (nginx's `client_header_timeout`).
        public var clientHeaderTimeout: UInt64
        /// A client that ends its input (closes, or half-closes) after a whole request: `true`
        /// abandons the exchange and closes (nginx's default, logged 499); `false` still
        /// answers it, then closes (HAProxy's default, without `option abortonclose`).
        public var abortOnClientClose: Bool
        /// Milliseconds a client may take no relayed bytes while the response backs up, before
        /// it is dropped (nginx's `send_timeout`; 0: never).
        public var clientSendTimeout: UInt64
        /// Milliseconds between two reads of a request body before 408 (nginx's
        /// `client_body_timeout`; 0: never).
        public var clientBodyTimeout: UInt64
        /// Milliseconds a pooled upstream connection may stay idle before this side closes it
        /// (keep it below the upstream's own idle timeout; 0: never).
        public var upstreamIdleTimeout: UInt64
        /// The largest request body, in bytes (the edge's `limits.max_body_size`, 10 MiB by
        /// default): a declared `Content-Length` over it gets 413 before anything is forwarded;
        /// a chunked body gets 413 (or, once the answer started, a closed connection) as soon as
        /// a chunk's size line takes it over, and its upstream connection is reset, so the
        /// upstream never sees a request that looks complete.
        public var maxRequestBody: Int
        /// HTTP/2 clients (ALPN `h2` on a TLS listener): what the sessions advertise and bound.
        public var http2Settings: HTTP2Settings = HTTP2Settings()
        public var http2Limits: HTTP2Limits = HTTP2Limits()

        public init(
            keepAlivePerUpstream: Int = 64, clientIdleTimeout: UInt64 = 65_000,
            upstreamTimeout: UInt64 = 60_000, upstreamIdleTimeout: UInt64 = 60_000, maxRequestBody: Int = 10 << 20,
            clientHeaderTimeout: UInt64 = 60_000, abortOnClientClose: Bool = false, clientSendTimeout: UInt64 = 60_000,
            clientBodyTimeout: UInt64 = 60_000
        ) {
            self.clientBodyTimeout = clientBodyTimeout
            self.clientSendTimeout = clientSendTimeout
            self.clientHeaderTimeout = clientHeaderTimeout
            self.abortOnClientClose = abortOnClientClose
            self.maxRequestBody = maxRequestBody
            self.upstreamIdleTimeout = upstreamIdleTimeout
            self.keepAlivePerUpstream = keepAlivePerUpstream
            self.clientIdleTimeout = clientIdleTimeout
            self.upstreamTimeout = upstreamTimeout
        }
    }

    /// Counters of one loop (tests, benchmarks).
    public struct Statistics: Sendable, Equatable {
        public var connections: Int
        public var buffersInUse: Int
        public var timersArmed: Int
        public var requests: Int
        public var upstreamConnectsStarted: Int
        public var upstreamReuses: Int
        /// Requests sent again on a new connection after a reused one closed before answering.
        public var upstreamReplays: Int
        public var idlePooled: Int
        public var badGateway: Int
    }

    public enum Message: Sendable {
        case statistics(reply: @Sendable (Statistics) -> Void)
        /// Graceful drain: stop accepting, close idle client connections and pooled upstream
        /// ones, let every exchange in progress finish and close its connection after it.
        case drain
        /// An answer the policy waited for (``ProxyPolicy/received(_:)``).
        case policy(Policy.Event)
    }

    enum Role: UInt8 { case free, client, upstream }

    /// Where a client's exchange is.
    enum Phase: UInt8 {
        /// Between requests (idle timer armed).
        case idle
        /// Request body bytes are still coming from the client.
        case sendingBody
        /// The whole request went upstream (or is queued); waiting for the response head.
        case awaitingResponse
        /// The response head went to the client; relaying its body.
        case relayingBody
        /// The upstream switched protocols: both connections relay bytes as they come
        /// (``startTunnel(_:_:_:_:upstream:io:)``).
        case tunnel
    }

    typealias Flag = ProxyFlag

    /// What a client's timer waits for, so that its firing is answered for what it was armed.
    enum TimerKind: UInt8 {
        /// Between requests (`clientIdleTimeout`): close.
        case idle
        /// A request head (`clientHeaderTimeout`): 408 once a head started, else close.
        case header
        /// The attempt's connection (the policy's connect timeout): the next server.
        case connect
        /// The response head (the policy's response timeout): 504.
        case response
        /// The client's next request body bytes (`clientBodyTimeout`): 408.
        case clientBody
        /// The upstream taking the request body (the policy's send timeout): 504.
        case upstreamSend
        /// The client taking the response body (`clientSendTimeout`): dropped. (An HTTP/2
        /// client: the sweep that resets its stalled streams.)
        case clientSend
        /// A request's `limit_req` delay (``ProxyDecision/forwardAfter(milliseconds:upstream:tag:)``):
        /// read it again, and forward it.
        case delay
    }

    /// Room for a peer's address as text (the longest IPv6 text is 45 bytes).
    static var addressCapacity: Int { 48 }

    /// One connection's state (client or upstream). Its fields are ordered by size so that
    /// no padding is left between them: 96 bytes, one per open connection, idle ones
    /// included (``ProxyHandlerLayoutTests``).
    struct Entry {
        var generation: UInt32 = 0
        var flags: UInt32 = 0
        var peer = ConnectionID(index: .max, generation: 0)
        var tag: UInt64 = 0
        /// Response body bytes relayed to the client in this exchange (for the access log).
        var bodyBytes = 0
        var request = BodyFraming(kind: .none)
        var response = BodyFraming(kind: .none)
        var timer: TimerID? = nil
        var role: Role = .free
        var phase: Phase = .idle
        /// What the client's timer (``timer``) is waiting for.
        var timerKind: TimerKind = .idle
        var upstream: UInt16 = 0
        var status: UInt16 = 0
        var replayLength: UInt16 = 0
        /// The request as sent upstream, kept while it may be replayed (a chunk of
        /// ``Storage/replays``, or -1); its length is ``replayLength``.
        var replay: Int32 = -1
        /// Upstream entry serving an HTTP/2 stream (``ProxyFlag/http2Stream``): the stream.
        var stream: Int32 = 0
    }

    /// Memory the handler owns for its life: the head being rewritten, the address scratch,
    /// the local answers, the requests kept for a replay. The handler keeps raw pointers into
    /// it, so using them retains nothing.
    final class Storage {
        let head: UnsafeMutableRawPointer
        let address: UnsafeMutableRawPointer
        let answers: UnsafeMutableBufferPointer<UnsafeMutableRawBufferPointer>
        /// Requests sent on a reused upstream connection, kept until the first response byte
        /// (see ``ProxyHandler/keepForReplay(_:count:)``): chunks taken and given back, no
        /// allocation per request once the pool has grown.
        var replays = BufferPool(chunkSize: ProxyHandler.replayCapacity, chunksPerSlab: 16)
        /// What HTTP/2 clients need, made with the loop's first one.
        var http2: HTTP2Storage?
        /// Deflate states of gzipped responses (``ProxyHandler/startsGzip(_:_:framing:slot:tag:)``).
        let gzip = GzipStreamPool()

        init(headCapacity: Int, answers contents: [[UInt8]]) {
            head = .allocate(byteCount: headCapacity, alignment: 64)
            address = .allocate(byteCount: ProxyHandler.addressCapacity, alignment: 8)
            answers = .allocate(capacity: contents.count)
            for (i, bytes) in contents.enumerated() {
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 16)
                bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
                answers[i] = buffer
            }
        }

        deinit {
            replays.deallocate()
            head.deallocate()
            address.deallocate()
            for answer in answers { answer.deallocate() }
            answers.deallocate()
        }
    }

    /// The payload of the pool sweep timer (no connection has this index).
    static var sweepPayload: UInt64 { UInt64(UInt32.max) }

    /// How often idle pooled connections are checked: a tenth of their timeout, 10 ms to 1 s.
    static func sweepInterval(_ configuration: Configuration) -> UInt64 {
        min(1000, max(10, configuration.upstreamIdleTimeout / 10))
    }

    /// The largest rewritten request head kept for a replay; a larger one is not replayed.
    static var replayCapacity: Int { 4096 }

    /// The statuses answered locally, each with a keep-alive and a closing variant.
    static var answerStatuses: [Int] { [400, 403, 404, 413, 429, 431, 500, 502, 503, 504, 408] }

    public var policy: Policy
    let configuration: Configuration
    var entries: [Entry] = []
    var pools: [UpstreamPool]
    let storage: Storage
    let headBuffer: UnsafeMutableRawPointer
    let headCapacity: Int
    /// The loop's input chunk: the largest head that can be read.
    let chunkSize: Int
    let addressBuffer: UnsafeMutableRawPointer
    /// `answers[2 * i]` keeps the connection, `answers[2 * i + 1]` closes it.
    let answers: UnsafeMutableBufferPointer<UnsafeMutableRawBufferPointer>
    let secure: Bool
    /// The timer that closes idle pooled connections, while any are pooled.
    var sweepTimer: TimerID?
    /// A drain is under way: connections close after their exchange, none is kept.
    var draining = false
    /// HTTP/2 clients' sessions, by client slot (grown with the first HTTP/2 client).
    var sessions: [HTTP2ServerSession?] = []
    /// Files being sent as answers, by client slot (``ProxyFlag/sendingFile``).
    var fileSends: [Int: FileSend] = [:]
    /// Files being sent as HTTP/2 streams' bodies, by id (``fileOwner(_:)``).
    var streamFiles: [UInt32: StreamFile] = [:]
    var nextStreamFile: UInt32 = 0
    /// HTTP/2 streams waiting before they go upstream or are decided, by id (``waitOwner(_:)``).
    var streamWaits: [UInt32: StreamWait] = [:]
    var nextStreamWait: UInt32 = 0
    /// Request heads of HTTP/2 clients that a read ended in the middle of, by client slot.
    var partialHeads: [Int: HTTP2HeadCollector.Saved] = [:]
    var requests = 0
    var connectsStarted = 0
    var reuses = 0
    var replays = 0
    var badGateway = 0

    /// - Parameters:
    ///   - configuration: upstreams, pool bound, timeouts.
    ///   - policy: the decisions.
    ///   - chunkSize: the loop's chunk size (the largest head).
    ///   - secure: whether the loop's clients speak TLS (for X-Forwarded-Proto).
    public init(configuration: Configuration, policy: Policy, chunkSize: Int = 16 * 1024, secure: Bool = false) {
        self.configuration = configuration
        self.policy = policy
        self.secure = secure
        pools = []
        entries.reserveCapacity(LoopIO.reservedConnections)
        headCapacity = chunkSize + 8192
        self.chunkSize = chunkSize
        var contents: [[UInt8]] = []
        for status in Self.answerStatuses {
            let body = "\(status) \(ReasonPhrase.of(status))\n"
            for close in [false, true] {
                contents.append(
                    Array(
                        ("HTTP/1.1 \(status) \(ReasonPhrase.of(status))\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n"
                            + (close ? "Connection: close\r\n" : "") + "\r\n" + body).utf8))
            }
        }
        storage = Storage(headCapacity: headCapacity, answers: contents)
        headBuffer = storage.head
        addressBuffer = storage.address
        answers = storage.answers
    }

    /// The position of `status` in ``answerStatuses`` (500's for any other), without
    /// building the array.
    static func answerPosition(_ status: Int) -> Int {
        switch status {
        case 400: 0
        case 403: 1
        case 404: 2
        case 413: 3
        case 429: 4
        case 431: 5
        case 502: 7
        case 503: 8
        case 504: 9
        case 408: 10
        default: 6
        }
    }

    // MARK: - Events

    public mutating func accepted(_ connection: ConnectionID, io: inout LoopIO) {
        let index = Int(connection.index)
        grow(to: index)
        entries[index] = Entry()
        entries[index].generation = connection.generation
        entries[index].role = .client
        if secure { entries[index].flags = Flag.secure }
        let http2 = secure && io.negotiatedHTTP2(connection)
        if secure { policy.tlsHandshakeCompleted(http2: http2, resumed: io.resumedSession(connection)) }
        // The peer's address is the policy's to keep (the entry does not hold it).
        let length = io.peerAddress(connection, into: UnsafeMutableRawBufferPointer(start: addressBuffer, count: Self.addressCapacity))
        policy.connectionOpened(
            ClientContext(
                connection: connection, address: UnsafeRawBufferPointer(start: addressBuffer, count: length), secure: secure,
                http2: http2))
        if http2 {
            acceptedHTTP2(index, connection, io: &io)
            return
        }
        // A new connection has `clientHeaderTimeout` for its first head (nginx's
        // client_header_timeout); between requests, `clientIdleTimeout`.
        armTimer(index, .header, after: configuration.clientHeaderTimeout, io: &io)
    }

    public mutating func received(_ input: UnsafeRawBufferPointer, on connection: ConnectionID, io: inout LoopIO) -> Int {
        let index = Int(connection.index)
        switch entries[index].role {
        case .client:
            if entries[index].flags & Flag.http2 != 0 { return clientReceivedHTTP2(input, index, connection, io: &io) }
            return clientReceived(input, index, connection, io: &io)
        case .upstream:
            if entries[index].flags & Flag.http2Stream != 0 {
                return streamUpstreamReceived(input, index, connection, io: &io)
            }
            return upstreamReceived(input, index, connection, io: &io)
        case .free: return input.count
        }
    }

    public mutating func connectCompleted(_ connection: ConnectionID, error: Int32, io: inout LoopIO) {
        // Success: the queued request is written by the core now. Failure: closed(…) follows.
        let index = Int(connection.index)
        guard error == 0, entries[index].role == .upstream else { return }
        entries[index].flags |= Flag.connected
        if entries[index].flags & Flag.http2Stream != 0 {
            armStreamTimer(index, io: &io)
            return
        }
        // The connect timer gives way to the response timer.
        let client = entries[index].peer
        guard isCurrent(client) else { return }
        let clientIndex = Int(client.index)
        if entries[clientIndex].phase == .sendingBody || entries[clientIndex].phase == .awaitingResponse {
            armUpstreamTimer(clientIndex, io: &io)
        }
    }

    public mutating func writable(_ connection: ConnectionID, io: inout LoopIO) {
        let index = Int(connection.index)
        if entries[index].flags & (Flag.http2 | Flag.http2Stream) != 0 {
            writableHTTP2(index, connection, io: &io)
            return
        }
        if entries[index].flags & Flag.sendingFile != 0 {
            pumpFile(index, connection, io: &io)
            return
        }
        let peer = entries[index].peer
        guard isCurrent(peer) else { return }
        let peerIndex = Int(peer.index)
        switch entries[index].role {
        case .client:
            // The client took the relayed body: read the upstream again (the send timer stops;
            // it starts again if the output backs up again).
            if entries[index].flags & Flag.upstreamPaused != 0 {
                entries[index].flags &= ~Flag.upstreamPaused
                cancelTimer(index, io: &io)
                io.resumeReading(peer)
            }
        case .upstream:
            // The upstream took the request body: read the client again, and the timer moves on
            // (the client's body timeout, or the response's once the request is all sent).
            let phase = entries[peerIndex].phase
            if (phase == .sendingBody || phase == .tunnel) && entries[peerIndex].flags & Flag.clientPaused != 0 {
                entries[peerIndex].flags &= ~Flag.clientPaused
                io.resumeReading(peer)
            }
            if entries[peerIndex].timerKind == .upstreamSend && io.pendingOutputBytes(connection) == 0 {
                armUpstreamTimer(peerIndex, io: &io)
            }
        case .free:
            break
        }
    }

    public mutating func handshakeFailed(_ failure: TLSHandshakeFailure, io: inout LoopIO) {
        policy.tlsHandshakeFailed(failure)
    }

    public mutating func inputEnded(on connection: ConnectionID, io: inout LoopIO) {
        let index = Int(connection.index)
        switch entries[index].role {
        case .client:
            entries[index].flags |= Flag.clientInputEnded
            if entries[index].flags & Flag.http2 != 0 {
                // HTTP/2 has no half-close of a connection: the client is gone.
                io.close(connection)
                return
            }
            switch entries[index].phase {
            case .idle:
                io.close(connection)
            case .sendingBody:
                // The client gave up halfway through its body: nothing sensible can follow.
                abortExchange(index, io: &io)
                io.close(connection)
            case .awaitingResponse, .relayingBody:
                if configuration.abortOnClientClose {
                    abortExchange(index, io: &io)
                    io.close(connection)
                }
                // Else a half-close after a complete request: answer, then close.
            case .tunnel:
                io.close(connection)  // and closed(…) closes the upstream side
            }
        case .upstream:
            entries[index].flags |= Flag.upstreamEnded
            io.close(connection)  // closed(…) ends or fails the exchange
        case .free:
            io.close(connection)
        }
    }

    public mutating func closed(_ connection: ConnectionID, reason: CloseReason, io: inout LoopIO) {
        let index = Int(connection.index)
        guard index < entries.count, entries[index].generation == connection.generation else { return }
        let entry = entries[index]
        // (After the close's handling: a body the close ends is finished with its deflater.)
        defer { if entry.flags & Flag.gzip != 0 { storage.gzip.release(index) } }
        if let timer = entry.timer { io.cancelTimer(timer) }
        if entry.flags & Flag.sendingFile != 0 { releaseFile(index) }
        // (A stream's kept request is its own to send again: streamUpstreamClosed decides.)
        if entry.replay >= 0 && entry.flags & Flag.http2Stream == 0 { storage.replays.release(entry.replay) }
        entries[index] = Entry()
        entries[index].generation = connection.generation
        if entry.flags & Flag.http2 != 0 {
            closedHTTP2(entry, connection, io: &io)
            return
        }
        if entry.flags & Flag.http2Stream != 0 {
            streamUpstreamClosed(entry, connection, reason: reason, io: &io)
            return
        }
        switch entry.role {
        case .client:
            // The client went away mid-exchange: the upstream connection is in an unknown
            // state and cannot be reused.
            if isCurrent(entry.peer) {
                entries[Int(entry.peer.index)].peer = ConnectionID(index: .max, generation: 0)
                // A tunnel's upstream gets what the client sent before its end; an exchange
                // cut short leaves the upstream connection unusable.
                if entry.phase == .tunnel { io.close(entry.peer) } else { io.abort(entry.peer) }
            }
            if entry.flags & Flag.exchangeOpen != 0 {
                // nginx's 499: the client closed before its response ended.
                policy.exchangeEnded(
                    client: context(entry, connection), tag: entry.tag, status: 499, bodyBytes: entry.bodyBytes,
                    requestBytes: entry.request.receivedBytes)
            }
            policy.connectionClosed(context(entry, connection))
        case .upstream:
            if entry.flags & Flag.pooled != 0 {
                pools[Int(entry.upstream)].remove(connection)
                return
            }
            guard isCurrent(entry.peer) else { return }
            let clientIndex = Int(entry.peer.index)
            entries[clientIndex].peer = ConnectionID(index: .max, generation: 0)
            let client = entry.peer
            switch entries[clientIndex].phase {
            case .relayingBody:
                if entries[clientIndex].response.kind == .untilClose && entry.flags & Flag.upstreamEnded != 0 {
                    // The end of a response delimited by the close: complete (chunked out: its
                    // last chunk, and the connection goes on).
                    if entries[clientIndex].flags & Flag.gzip != 0 {
                        finishGzipBody(clientIndex, client, io: &io)
                    } else if entries[clientIndex].flags & Flag.chunksOut != 0 {
                        io.write(UnsafeRawBufferPointer(start: Self.lastChunk.utf8Start, count: 5), on: client)
                    }
                    finishClient(clientIndex, client, status: Int(entries[clientIndex].status), io: &io)
                } else {
                    // Cut short: closing tells the client (its framing is incomplete); the log
                    // keeps the status the client saw begin.
                    endExchange(clientIndex, client, status: Int(entries[clientIndex].status))
                    io.close(client)
                }
            case .sendingBody, .awaitingResponse:
                retryOrFail(
                    clientIndex, client, failure: Self.attemptFailure(entry, reason), upstreamIndex: Int(entry.upstream),
                    io: &io)
            case .tunnel:
                io.close(client)  // after what the upstream sent before its end
            case .idle:
                break
            }
        case .free:
            break
        }
    }

    // MARK: - Retries

    /// What ended an attempt before its response (for ``UpstreamRetryPolicy``): the connect,
    /// or a close of a new or a reused (pooled) connection.
    static func attemptFailure(_ upstream: Entry, _ reason: CloseReason) -> UpstreamRetryPolicy.Failure {
        if case .connectFailed = reason { return .connectFailed }
        return .closedBeforeResponse(reusedConnection: upstream.flags & Flag.reusedConnection != 0)
    }

    /// An attempt ended before any response byte: the retry rule (``UpstreamRetryPolicy``)
    /// decides between the same server again (a stale pooled connection), the next server the
    /// policy names, and an answer (502). Only a request kept whole (``keepForReplay(_:count:)``)
    /// is sent again.
    mutating func retryOrFail(
        _ clientIndex: Int, _ client: ConnectionID, failure: UpstreamRetryPolicy.Failure, upstreamIndex: Int,
        io: inout LoopIO
    ) {
        let flags = entries[clientIndex].flags
        let kept = entries[clientIndex].replay >= 0
        let decision = UpstreamRetryPolicy.decide(
            failure,
            .init(
                idempotent: flags & Flag.idempotent != 0, replayable: kept, responseStarted: false,
                staleRetryUsed: flags & Flag.staleRetried != 0))
        switch decision {
        case .reconnect:
            entries[clientIndex].flags |= Flag.staleRetried
            if replay(clientIndex, client, upstreamIndex: upstreamIndex, io: &io) { return }
        case .nextServer(let strike):
            let tag = entries[clientIndex].tag
            if kept, let next = policy.nextUpstream(tag: tag, afterFailure: strike) {
                if replay(clientIndex, client, upstreamIndex: next, io: &io) { return }
            } else if !kept && strike {
                policy.upstreamFailed(tag: tag)
            }
        case .fail(_, let strike), .broken(let strike):
            if strike { policy.upstreamFailed(tag: entries[clientIndex].tag) }
        }
        answerBadGateway(clientIndex, client, io: &io)
    }

    // MARK: - Sending a request again

    /// Keeps the rewritten head (`headBuffer[0..<count]`) of the client's bodiless request.
    mutating func keepForReplay(_ index: Int, count: Int) {
        guard count <= Self.replayCapacity else { return }
        let chunk = storage.replays.acquire()
        storage.replays.base(chunk).copyMemory(from: headBuffer, byteCount: count)
        entries[index].replay = chunk
        entries[index].replayLength = UInt16(count)
    }

    mutating func releaseReplay(_ index: Int) {
        guard entries[index].replay >= 0 else { return }
        storage.replays.release(entries[index].replay)
        entries[index].replay = -1
    }

    /// Sends the kept request again on a new connection to `upstreamIndex` (the same server
    /// after a stale pooled connection, or the next one). The request stays kept until the
    /// first response byte, for a further try.
    /// - Returns: `false` when no connection could be started (the caller answers 502).
    mutating func replay(_ clientIndex: Int, _ client: ConnectionID, upstreamIndex: Int, io: inout LoopIO) -> Bool {
        guard let upstream = connectUpstream(upstreamIndex, io: &io) else { return false }
        replays += 1
        entries[Int(upstream.index)].peer = client
        entries[clientIndex].peer = upstream
        entries[clientIndex].upstream = UInt16(upstreamIndex)
        armUpstreamTimer(clientIndex, io: &io)
        let chunk = entries[clientIndex].replay
        io.write(
            UnsafeRawBufferPointer(start: storage.replays.base(chunk), count: Int(entries[clientIndex].replayLength)), on: upstream)
        return true
    }

    /// GET, HEAD, PUT, DELETE, OPTIONS and TRACE (RFC 9110 §9.2.2): safe to send twice.
    static func isIdempotent(_ input: UnsafeRawBufferPointer, _ head: HTTPRequestHead) -> Bool {
        let (from, to) = (head.start, head.methodEnd)
        return HTTPScan.matches(input, from, to, "GET") || HTTPScan.matches(input, from, to, "HEAD")
            || HTTPScan.matches(input, from, to, "PUT") || HTTPScan.matches(input, from, to, "DELETE")
            || HTTPScan.matches(input, from, to, "OPTIONS") || HTTPScan.matches(input, from, to, "TRACE")
    }

    public mutating func timerFired(_ timer: TimerID, payload: UInt64, io: inout LoopIO) {
        if payload & 0xffff_ffff == Self.streamWaitPayload {
            streamWaitEnded(UInt32(truncatingIfNeeded: payload >> 32), io: &io)
            return
        }
        if payload == Self.sweepPayload {
            // Close pooled connections idle too long; come back while any stay pooled.
            sweepTimer = nil
            let deadline = io.now &- min(io.now, configuration.upstreamIdleTimeout)
            var parked = 0
            for upstream in pools.indices {
                pools[upstream].closeIdle(parkedBefore: deadline, io: &io)
                parked += pools[upstream].count
            }
            if parked > 0 {
                sweepTimer = io.armTimer(at: io.now + Self.sweepInterval(configuration), payload: Self.sweepPayload)
            }
            return
        }
        let connection = ConnectionID(index: UInt32(truncatingIfNeeded: payload), generation: UInt32(payload >> 32))
        let index = Int(connection.index)
        guard index < entries.count, entries[index].generation == connection.generation, entries[index].timer == timer
        else { return }
        if entries[index].flags & (Flag.http2 | Flag.http2Stream) != 0 {
            entries[index].timer = nil
            timerFiredHTTP2(index, connection, io: &io)
            return
        }
        guard entries[index].role == .client else { return }
        entries[index].timer = nil
        switch entries[index].phase {
        case .idle:
            if entries[index].timerKind == .delay {
                // The delay is over: the request is read again, and forwarded (or, waiting
                // for its policy, decided without the answer).
                entries[index].flags &= ~Flag.clientPaused
                io.resumeReading(connection)
            } else if entries[index].flags & Flag.headStarted != 0 {
                answer(408, index, connection, close: true, io: &io)
            } else {
                io.close(connection)
            }
        case .sendingBody, .awaitingResponse:
            let attempt = entries[index].peer
            if entries[index].timerKind == .clientBody {
                // The client stopped sending its body: 408, and the upstream, which got part of
                // a request, is dropped.
                abortExchange(index, io: &io)
                answer(408, index, connection, close: true, io: &io)
                return
            }
            if entries[index].timerKind == .connect && isCurrent(attempt) {
                // The upstream connection was not established in time: the connect timeout,
                // which the retry rule sends to the next server.
                let upstreamIndex = Int(entries[Int(attempt.index)].upstream)
                entries[Int(attempt.index)].peer = ConnectionID(index: .max, generation: 0)
                entries[index].peer = ConnectionID(index: .max, generation: 0)
                io.abort(attempt)
                retryOrFail(index, connection, failure: .connectTimedOut, upstreamIndex: upstreamIndex, io: &io)
                return
            }
            // The upstream did not take the request, or did not answer, in time: 504 (a strike
            // against it), and the upstream connection is dropped.
            policy.upstreamFailed(tag: entries[index].tag)
            let upstream = entries[index].peer
            entries[index].peer = ConnectionID(index: .max, generation: 0)
            if isCurrent(upstream) {
                entries[Int(upstream.index)].peer = ConnectionID(index: .max, generation: 0)
                io.abort(upstream)
            }
            answer(504, index, connection, close: true, io: &io)
        case .relayingBody:
            // The client took none of the response for `clientSendTimeout`: dropped (nginx's
            // send_timeout), the upstream connection with it.
            endExchange(index, connection, status: Int(entries[index].status))
            abortExchange(index, io: &io)
            entries[index].flags |= Flag.closing
            io.abort(connection)
        case .tunnel:
            break  // a tunnel arms no timer
        }
    }

    public mutating func received(message: Message, io: inout LoopIO) {
        switch message {
        case .statistics(let reply):
            reply(
                Statistics(
                    connections: io.connectionCount, buffersInUse: io.buffersInUse, timersArmed: io.timers.count,
                    requests: requests, upstreamConnectsStarted: connectsStarted, upstreamReuses: reuses, upstreamReplays: replays,
                    idlePooled: pools.reduce(0) { $0 + $1.count }, badGateway: badGateway))
        case .drain:
            draining = true
            io.stopAccepting()
            for upstream in pools.indices { _ = pools[upstream].closeIdle(parkedBefore: .max, io: &io) }
            for index in entries.indices where entries[index].role == .client {
                let connection = ConnectionID(index: UInt32(index), generation: entries[index].generation)
                if entries[index].flags & Flag.http2 != 0 {
                    drainHTTP2(index, connection, io: &io)
                } else if entries[index].phase == .idle
                    && entries[index].flags & (Flag.headStarted | Flag.delayed | Flag.awaitingDecision) == 0
                {
                    entries[index].flags |= Flag.closing
                    io.close(connection)
                } else {
                    // Answered with `Connection: close` (or closed after the response already
                    // going out); a pipelined next request is not taken.
                    entries[index].flags &= ~Flag.keepAlive
                }
            }
        case .policy(let event):
            // The request waiting for this answer is read again, and decided.
            guard let (connection, stream) = policy.received(event), isCurrent(connection) else { return }
            if stream != 0 {
                streamDecisionArrived(connection, stream: stream, io: &io)
                return
            }
            let index = Int(connection.index)
            guard entries[index].flags & Flag.awaitingDecision != 0, entries[index].phase == .idle else { return }
            cancelTimer(index, io: &io)
            entries[index].flags &= ~Flag.clientPaused
            io.resumeReading(connection)
        }
    }

    // MARK: - Client side

    mutating func clientReceived(_ input: UnsafeRawBufferPointer, _ index: Int, _ client: ConnectionID, io: inout LoopIO)
        -> Int
    {
        switch entries[index].phase {
        case .idle:
            // Requests the policy answers itself leave the connection idle: a pipelined next
            // request in the same input is taken at once (no further read may come for it).
            var offset = 0
            while true {
                let used = startExchange(UnsafeRawBufferPointer(rebasing: input[offset...]), index, client, io: &io)
                offset += used
                guard used > 0, offset < input.count, entries[index].phase == .idle, isCurrent(client),
                    entries[index].flags & Flag.closing == 0
                else { return offset }
            }
        case .sendingBody:
            let upstream = entries[index].peer
            switch entries[index].request.consume(input, from: 0) {
            case .malformed:
                abortExchange(index, io: &io)
                answer(400, index, client, close: true, io: &io)
                return input.count
            case .body(let used, let complete):
                if entries[index].request.announcedBytes > configuration.maxRequestBody {
                    refuseOversizedBody(index, client, io: &io)
                    return input.count
                }
                io.write(UnsafeRawBufferPointer(rebasing: input[0..<used]), on: upstream)
                if complete { entries[index].phase = .awaitingResponse }
                if (complete && used < input.count) || io.pendingOutputBytes(upstream) > 0 {
                    entries[index].flags |= Flag.clientPaused
                    io.pauseReading(client)
                }
                armUpstreamTimer(index, io: &io)
                return used
            }
        case .tunnel:
            return tunnelReceived(
                input, from: client, to: entries[index].peer, clientIndex: index, pausedFlag: Flag.clientPaused, io: &io)
        case .awaitingResponse, .relayingBody:
            // A pipelined request: it waits in the core's buffer until this exchange is done.
            entries[index].flags |= Flag.clientPaused
            io.pauseReading(client)
            return 0
        }
    }

    mutating func startExchange(_ input: UnsafeRawBufferPointer, _ index: Int, _ client: ConnectionID, io: inout LoopIO)
        -> Int
    {
        guard let head = HTTPRequestHead.parse(input, from: 0) else {
            if input.count >= chunkSize {
                // The head does not fit the loop's input chunk: 400 (nginx's "Request Header Or
                // Cookie Too Large"), rather than the core dropping a connection it cannot read.
                answer(400, index, client, close: true, io: &io)
                return input.count
            }
            // A head has started: from its first byte it has `clientHeaderTimeout` to arrive
            // whole (the keep-alive wait is over), else 408.
            if entries[index].flags & Flag.headStarted == 0 && !input.isEmpty {
                entries[index].flags |= Flag.headStarted
                armTimer(index, .header, after: configuration.clientHeaderTimeout, io: &io)
            }
            return 0
        }
        // A request read again after its delay or its policy's wait is not a new one.
        let delayed = entries[index].flags & Flag.delayed != 0
        if entries[index].flags & (Flag.delayed | Flag.awaitingDecision) == 0 { requests += 1 }
        entries[index].flags &= ~(Flag.headStarted | Flag.awaitingDecision)
        if head.malformed {
            answer(400, index, client, close: true, io: &io)
            return input.count
        }
        cancelTimer(index, io: &io)
        let clientContext = context(entries[index], client)
        var answerWriter = HeadWriter(base: headBuffer, capacity: headCapacity)
        let decision: ProxyDecision
        if delayed {
            entries[index].flags &= ~Flag.delayed
            decision = .forward(upstream: Int(entries[index].upstream), tag: entries[index].tag)
        } else {
            decision = policy.decide(head, in: input, client: clientContext, answer: &answerWriter)
        }
        switch decision {
        case .decideLater(let milliseconds):
            // The request stays in the buffer, unread, until the policy's answer or the time.
            entries[index].flags |= Flag.awaitingDecision | Flag.clientPaused
            io.pauseReading(client)
            armTimer(index, .delay, after: milliseconds, io: &io)
            return 0
        case .forwardAfter(let milliseconds, let upstreamIndex, let tag):
            // The request stays in the buffer, unread, until the delay ends; the exchange is
            // open (a client gone meanwhile is logged 499 and its exchange released).
            entries[index].tag = tag
            entries[index].upstream = UInt16(upstreamIndex)
            entries[index].flags |= Flag.delayed | Flag.exchangeOpen | Flag.clientPaused
            io.pauseReading(client)
            armTimer(index, .delay, after: milliseconds, io: &io)
            return 0
        case .respond(let status, let close):
            let closes = close || draining || head.answerCloses(received: input.count)
            answer(status, index, client, close: closes, io: &io)
            return closes ? input.count : head.length + max(0, head.contentLength)
        case .answered(let close):
            let closes = close || draining || head.answerCloses(received: input.count) || answerWriter.overflowed
            if answerWriter.overflowed {
                answer(500, index, client, close: true, io: &io)
            } else {
                io.writeAtBatchEnd(UnsafeRawBufferPointer(start: headBuffer, count: answerWriter.count), on: client)
                if closes {
                    entries[index].flags |= Flag.closing
                    io.close(client)
                } else {
                    armIdleTimer(index, io: &io)
                }
            }
            return closes ? input.count : head.length + max(0, head.contentLength)
        case .file(let descriptor, let offset, let count, let close):
            guard !answerWriter.overflowed else {
                Self.closeFile(descriptor)
                answer(500, index, client, close: true, io: &io)
                return input.count
            }
            let closes = close || draining || head.answerCloses(received: input.count)
            startFile(
                head: UnsafeRawBufferPointer(start: headBuffer, count: answerWriter.count), descriptor: descriptor,
                offset: offset, count: count, closes: closes, index, client, io: &io)
            return closes ? input.count : head.length + max(0, head.contentLength)
        case .forward(let upstreamIndex, let tag):
            entries[index].tag = tag
            entries[index].upstream = UInt16(upstreamIndex)
            entries[index].status = 0
            entries[index].bodyBytes = 0
            var flags = entries[index].flags & (Flag.secure | Flag.clientInputEnded)
            flags |= Flag.exchangeOpen
            if head.keepAlive && !draining { flags |= Flag.keepAlive }
            if head.isHEAD { flags |= Flag.headRequest }
            if head.minorVersion == 0 { flags |= Flag.http10 }
            if Self.isIdempotent(input, head) { flags |= Flag.idempotent }
            // An upgrade request: a refusal closes the connection afterwards (what follows the
            // request may be bytes of the other protocol).
            let upgrade = Self.upgradeRequested(input, head)
            if upgrade != nil { flags = (flags | Flag.upgrade) & ~Flag.keepAlive }
            entries[index].flags = flags
            if head.contentLength > configuration.maxRequestBody {
                answer(413, index, client, close: true, io: &io)
                return input.count
            }
            entries[index].request =
                head.chunked
                ? BodyFraming(kind: .chunked) : BodyFraming(kind: .length, length: max(0, head.contentLength))
            // The rewritten head.
            var writer = HeadWriter(base: headBuffer, capacity: headCapacity)
            let rewroteLine = policy.writeRequestLine(head, in: input, tag: tag, into: &writer)
            Self.copyHead(
                input, from: head.start, to: head.start + head.length, keepStartLine: !rewroteLine,
                connectionNamesFields: head.connectionNamesFields, into: &writer, policy: &policy,
                drop: { $0.dropsRequestField($1) })
            policy.writeRequestFields(head, in: input, client: clientContext, tag: tag, into: &writer)
            if let upgrade { Self.writeUpgradeFields(upgrade, of: input, into: &writer) }
            writer.append("\r\n")
            if writer.overflowed {
                answer(431, index, client, close: true, io: &io)
                return input.count
            }
            // The body bytes that came with the head.
            var bodyEnd = head.length
            switch entries[index].request.consume(input, from: head.length) {
            case .malformed:
                answer(400, index, client, close: true, io: &io)
                return input.count
            case .body(let used, _):
                bodyEnd += used
            }
            if entries[index].request.announcedBytes > configuration.maxRequestBody {
                answer(413, index, client, close: true, io: &io)
                return input.count
            }
            guard let upstream = upstreamConnection(upstreamIndex, io: &io) else {
                answerBadGateway(index, client, io: &io)
                return input.count
            }
            let upstreamSlot = Int(upstream.index)
            entries[index].peer = upstream
            entries[upstreamSlot].peer = client
            entries[index].phase = entries[index].request.isComplete ? .awaitingResponse : .sendingBody
            // Keep a bodiless request until the first response byte: sent again after a failed
            // connect (nothing was sent), a stale pooled connection, or a reset (idempotent
            // methods only; UpstreamRetryPolicy decides).
            if bodyEnd == head.length, entries[index].request.isComplete { keepForReplay(index, count: writer.count) }
            if !entries[index].request.isComplete && Self.expectsContinue(input, head) {
                // The client waits for a go-ahead before its body: every check passed, so the
                // proxy gives it (as nginx does) rather than forward `Expect`.
                io.write(UnsafeRawBufferPointer(start: Self.continueLine.utf8Start, count: Self.continueLine.utf8CodeUnitCount), on: client)
            }
            let requestHead = UnsafeRawBufferPointer(start: headBuffer, count: writer.count)
            let bodyPart = UnsafeRawBufferPointer(rebasing: input[head.length..<bodyEnd])
            if entries[index].request.isComplete {
                // Nothing more to send: out with the loop's other writes of this wake-up.
                io.writeAtBatchEnd(requestHead, bodyPart, on: upstream)
            } else {
                io.write(requestHead, bodyPart, on: upstream)  // the body's backpressure reads what is pending
            }
            armUpstreamTimer(index, io: &io)
            if bodyEnd < input.count || (!entries[index].request.isComplete && io.pendingOutputBytes(upstream) > 0) {
                // Pipelined bytes, or an upstream that is not taking the body yet. (A whole
                // request leaves reading on: the client's close is seen while it waits.)
                entries[index].flags |= Flag.clientPaused
                io.pauseReading(client)
            }
            return bodyEnd
        }
    }

    /// An idle pooled connection to the upstream, or a new one (its request is queued until
    /// it is established).
    mutating func upstreamConnection(_ upstreamIndex: Int, io: inout LoopIO) -> ConnectionID? {
        if let pooled = upstreamIndex < pools.count ? pools[upstreamIndex].take(io: io) : nil {
            entries[Int(pooled.index)].flags = Flag.reusedConnection | Flag.connected
            reuses += 1
            return pooled
        }
        return connectUpstream(upstreamIndex, io: &io)
    }

    /// The index of an upstream the policy named first: a pool for it.
    mutating func ensurePool(_ upstreamIndex: Int) {
        while pools.count <= upstreamIndex { pools.append(UpstreamPool(capacity: configuration.keepAlivePerUpstream)) }
    }

    /// A new connection to the upstream, its slot made an upstream entry (its output is queued
    /// until it is established).
    mutating func connectUpstream(_ upstreamIndex: Int, io: inout LoopIO) -> ConnectionID? {
        guard case .success(let upstream) = io.connect(to: policy.upstreamAddress(upstreamIndex)) else { return nil }
        ensurePool(upstreamIndex)
        connectsStarted += 1
        let slot = Int(upstream.index)
        grow(to: slot)
        entries[slot] = Entry()
        entries[slot].generation = upstream.generation
        entries[slot].role = .upstream
        entries[slot].upstream = UInt16(upstreamIndex)
        return upstream
    }

    // MARK: - Upstream side

    mutating func upstreamReceived(_ input: UnsafeRawBufferPointer, _ index: Int, _ upstream: ConnectionID, io: inout LoopIO)
        -> Int
    {
        let client = entries[index].peer
        guard isCurrent(client) else {
            // Bytes from an idle pooled connection (or after its exchange ended): not HTTP we
            // can place; the connection cannot be reused.
            io.close(upstream)
            return input.count
        }
        let clientIndex = Int(client.index)
        if entries[clientIndex].phase == .tunnel {
            return tunnelReceived(input, from: upstream, to: client, clientIndex: clientIndex, pausedFlag: Flag.upstreamPaused, io: &io)
        }
        releaseReplay(clientIndex)  // the upstream answers: the request can no longer be replayed
        var offset = 0
        while entries[clientIndex].phase != .relayingBody {
            guard let head = HTTPResponseHead.parse(input, from: offset) else { return offset }
            if head.malformed {
                abortExchange(clientIndex, io: &io)
                answerBadGateway(clientIndex, client, io: &io)
                return input.count
            }
            if head.status >= 100 && head.status < 200 {
                if head.status == 101 {
                    if entries[clientIndex].flags & Flag.upgrade != 0 && entries[clientIndex].phase == .awaitingResponse {
                        startTunnel(head, input, clientIndex, client, upstream: upstream, io: &io)
                        return input.count
                    }
                    // Switching protocols unasked (or while the request body still comes).
                    abortExchange(clientIndex, io: &io)
                    answerBadGateway(clientIndex, client, io: &io)
                    return input.count
                }
                // An interim response goes through as it is (not to an HTTP/1.0 client, which
                // cannot read one: RFC 9110 §15.2); the final one follows.
                if entries[clientIndex].flags & Flag.http10 == 0 {
                    io.write(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + head.length)]), on: client)
                }
                offset += head.length
                continue
            }
            startRelay(head, input, clientIndex, client, upstream: upstream, io: &io)
            return input.count
        }
        relayBody(input, from: offset, clientIndex, client, upstream: upstream, io: &io)
        return input.count
    }

    mutating func startRelay(
        _ head: HTTPResponseHead, _ input: UnsafeRawBufferPointer, _ clientIndex: Int, _ client: ConnectionID,
        upstream: ConnectionID, io: inout LoopIO
    ) {
        let flags = entries[clientIndex].flags
        let framing = Self.responseFraming(head, headRequest: flags & Flag.headRequest != 0)
        var keepClient = flags & Flag.keepAlive != 0 && flags & Flag.clientInputEnded == 0
        let gzip = startsGzip(head, input, framing: framing, slot: clientIndex, tag: entries[clientIndex].tag)
        if gzip { entries[clientIndex].flags |= Flag.gzip }
        // A body the upstream ends by closing has no length (nor has a gzipped one): an
        // HTTP/1.1 client that keeps its connection gets it chunked (the connection stays
        // usable); any other client gets it as it is, ended by the close.
        let unsized = framing.kind == .untilClose || gzip
        let chunksOut = unsized && keepClient && flags & Flag.http10 == 0
        // RFC 9112 §6.1: no chunked coding to an HTTP/1.0 client. Its body goes out as the
        // chunks' data, ended by the close.
        let dechunk = framing.kind == .chunked && flags & Flag.http10 != 0 && !gzip
        if (unsized && !chunksOut) || dechunk || entries[clientIndex].phase == .sendingBody {
            keepClient = false
        }
        if chunksOut { entries[clientIndex].flags |= Flag.chunksOut }
        if dechunk { entries[clientIndex].flags |= Flag.dechunk }
        if !keepClient { entries[clientIndex].flags &= ~(Flag.keepAlive | Flag.chunksOut) }
        if head.upstreamKeepsAlive && framing.kind != .untilClose {
            entries[clientIndex].flags |= Flag.upstreamReusable
        }
        entries[clientIndex].response = framing
        entries[clientIndex].status = UInt16(head.status)
        if entries[clientIndex].phase == .awaitingResponse {
            cancelTimer(clientIndex, io: &io)
            entries[clientIndex].phase = .relayingBody
        }
        // An early answer while the request body still comes (413...): relay it, then close
        // both sides; the rest of the request body is never read.
        if entries[clientIndex].phase == .sendingBody {
            entries[clientIndex].phase = .relayingBody
            entries[clientIndex].flags &= ~Flag.upstreamReusable
        }
        // The rewritten head.
        var writer = HeadWriter(base: headBuffer, capacity: headCapacity)
        let tag = entries[clientIndex].tag
        Self.copyHead(
            input, from: head.start, to: head.start + head.length, connectionNamesFields: head.connectionNamesFields,
            into: &writer, policy: &policy,
            drop: { policy, name in
                (dechunk && name.count == 17 && HTTPScan.matches(name, 0, 17, "transfer-encoding"))
                    || (gzip && Self.gzipDrops(name)) || policy.dropsResponseField(name, tag: tag)
            })
        self.policy.writeResponseFields(
            status: head.status, client: context(entries[clientIndex], client), tag: entries[clientIndex].tag, into: &writer)
        if gzip { Self.writeGzipFields(input, head: head, into: &writer) }
        if entries[clientIndex].flags & Flag.chunksOut != 0 { writer.append("Transfer-Encoding: chunked\r\n") }
        if flags & Flag.http10 != 0 {
            // HTTP/1.0 closes unless told otherwise.
            if keepClient { writer.append("Connection: keep-alive\r\n") }
        } else if !keepClient {
            writer.append("Connection: close\r\n")
        }
        writer.append("\r\n")
        if writer.overflowed {
            abortExchange(clientIndex, io: &io)
            answerBadGateway(clientIndex, client, io: &io)
            return
        }
        let bodyStart = head.start + head.length
        if gzip {
            relayGzipBody(
                input, from: bodyStart, clientIndex, client, upstream: upstream,
                head: UnsafeRawBufferPointer(start: headBuffer, count: writer.count), io: &io)
            return
        }
        guard entries[clientIndex].flags & (Flag.chunksOut | Flag.dechunk) == 0 else {
            // Re-framed bodies: the head, then the body as its framing says.
            io.write(UnsafeRawBufferPointer(start: headBuffer, count: writer.count), on: client)
            relayBody(input, from: bodyStart, clientIndex, client, upstream: upstream, io: &io)
            return
        }
        switch entries[clientIndex].response.consume(input, from: bodyStart) {
        case .malformed:
            io.write(UnsafeRawBufferPointer(start: headBuffer, count: writer.count), on: client)
            abortExchange(clientIndex, io: &io)
            io.close(client)
        case .body(let used, let complete):
            // The head and the body's first bytes in one write; a whole response goes out with
            // the loop's other writes of this wake-up (``LoopIO/writeAtBatchEnd(_:_:on:)``).
            entries[clientIndex].bodyBytes += used
            let responseHead = UnsafeRawBufferPointer(start: headBuffer, count: writer.count)
            let bodyPart = UnsafeRawBufferPointer(rebasing: input[bodyStart..<(bodyStart + used)])
            if complete {
                io.writeAtBatchEnd(responseHead, bodyPart, on: client)
            } else {
                io.write(responseHead, bodyPart, on: client)
            }
            afterRelay(complete: complete, extra: bodyStart + used < input.count, clientIndex, client, upstream: upstream, io: &io)
        }
    }

    /// How a response's body is delimited (RFC 9112 §6.3): none for HEAD, 1xx, 204 and 304
    /// (``ResponseFraming``), else chunked, `Content-Length`, or the upstream's close.
    static func responseFraming(_ head: HTTPResponseHead, headRequest: Bool) -> BodyFraming {
        if !ResponseFraming(status: head.status, isHEAD: headRequest).sendsBody { return BodyFraming(kind: .none) }
        if head.chunked { return BodyFraming(kind: .chunked) }
        if head.contentLength >= 0 { return BodyFraming(kind: .length, length: head.contentLength) }
        return BodyFraming(kind: .untilClose)
    }

    /// Relays the response body's bytes in `input[offset...]`: as they came, as chunks (a body
    /// ended by the upstream's close, to an HTTP/1.1 client that keeps its connection), or as
    /// the chunks' data only (a chunked body to an HTTP/1.0 client).
    mutating func relayBody(
        _ input: UnsafeRawBufferPointer, from offset: Int, _ clientIndex: Int, _ client: ConnectionID,
        upstream: ConnectionID, io: inout LoopIO
    ) {
        let flags = entries[clientIndex].flags
        if flags & Flag.gzip != 0 {
            relayGzipBody(input, from: offset, clientIndex, client, upstream: upstream, head: nil, io: &io)
            return
        }
        let outcome =
            flags & Flag.dechunk != 0
            ? entries[clientIndex].response.consumePayload(input, from: offset) { io.write($0, on: client) }
            : entries[clientIndex].response.consume(input, from: offset)
        switch outcome {
        case .malformed:
            abortExchange(clientIndex, io: &io)
            io.close(client)
        case .body(let used, let complete):
            entries[clientIndex].bodyBytes += used
            if flags & Flag.chunksOut != 0 {
                writeChunk(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + used)]), to: client, io: &io)
            } else if flags & Flag.dechunk == 0 {
                io.write(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + used)]), on: client)
            }
            afterRelay(complete: complete, extra: offset + used < input.count, clientIndex, client, upstream: upstream, io: &io)
        }
    }

    /// Writes `bytes` as one chunk of the chunked coding (nothing for no bytes: an empty chunk
    /// would end the body).
    mutating func writeChunk(_ bytes: UnsafeRawBufferPointer, to client: ConnectionID, io: inout LoopIO) {
        guard !bytes.isEmpty else { return }
        var line: (UInt64, UInt64, UInt64) = (0, 0, 0)  // hex digits and CRLF, at most 18 bytes
        withUnsafeMutableBytes(of: &line) { buffer in
            var count = 0
            var shift = (Int.bitWidth - bytes.count.leadingZeroBitCount + 3) / 4 * 4
            repeat {
                shift -= 4
                let nibble = UInt8(truncatingIfNeeded: bytes.count >> shift) & 0xf
                buffer[count] = nibble < 10 ? 48 + nibble : 87 + nibble
                count += 1
            } while shift > 0
            buffer[count] = 13
            buffer[count + 1] = 10
            io.write(UnsafeRawBufferPointer(rebasing: buffer[0..<(count + 2)]), bytes, on: client)
        }
        io.write(UnsafeRawBufferPointer(start: Self.crlf.utf8Start, count: 2), on: client)
    }

    static var crlf: StaticString { "\r\n" }
    static var lastChunk: StaticString { "0\r\n\r\n" }

    mutating func afterRelay(complete: Bool, extra: Bool, _ clientIndex: Int, _ client: ConnectionID, upstream: ConnectionID, io: inout LoopIO) {
        guard complete else {
            if io.pendingOutputBytes(client) > 0 && entries[clientIndex].flags & Flag.upstreamPaused == 0 {
                entries[clientIndex].flags |= Flag.upstreamPaused
                io.pauseReading(upstream)
                armTimer(clientIndex, .clientSend, after: configuration.clientSendTimeout, io: &io)
            }
            return
        }
        // The response is complete: the upstream goes back to its pool or is closed.
        let upstreamSlot = Int(upstream.index)
        entries[upstreamSlot].peer = ConnectionID(index: .max, generation: 0)
        entries[clientIndex].peer = ConnectionID(index: .max, generation: 0)
        let reusable = entries[clientIndex].flags & Flag.upstreamReusable != 0 && !extra
        if entries[clientIndex].flags & Flag.upstreamPaused != 0 { io.resumeReading(upstream) }
        if reusable && !draining && pools[Int(entries[upstreamSlot].upstream)].park(upstream, now: io.now) {
            entries[upstreamSlot].flags = Flag.pooled
            if sweepTimer == nil && configuration.upstreamIdleTimeout > 0 {
                sweepTimer = io.armTimer(at: io.now + Self.sweepInterval(configuration), payload: Self.sweepPayload)
            }
        } else {
            io.close(upstream)
        }
        finishClient(clientIndex, client, status: Int(entries[clientIndex].status), io: &io)
    }

    /// The exchange is over for the client: keep the connection (and answer a pipelined
    /// request waiting in the core's buffer) or close it.
    mutating func finishClient(_ index: Int, _ client: ConnectionID, status: Int, io: inout LoopIO) {
        endExchange(index, client, status: status)
        releaseGzip(index)
        let flags = entries[index].flags
        entries[index].phase = .idle
        entries[index].peer = ConnectionID(index: .max, generation: 0)
        entries[index].flags = flags & (Flag.secure | Flag.clientInputEnded)
        if flags & Flag.keepAlive == 0 || flags & Flag.clientInputEnded != 0 {
            io.close(client)
            return
        }
        armIdleTimer(index, io: &io)
        if flags & Flag.clientPaused != 0 { io.resumeReading(client) }
    }

    // MARK: - Failures and local answers

    /// Drops the upstream side of a client's exchange (its connection cannot be reused).
    mutating func abortExchange(_ clientIndex: Int, io: inout LoopIO) {
        let upstream = entries[clientIndex].peer
        entries[clientIndex].peer = ConnectionID(index: .max, generation: 0)
        guard isCurrent(upstream) else { return }
        entries[Int(upstream.index)].peer = ConnectionID(index: .max, generation: 0)
        io.abort(upstream)
    }

    /// A chunked request body went over ``Configuration/maxRequestBody`` while it streamed: the
    /// upstream connection is reset (it never sees the request end), and the client gets 413
    /// when no answer has started, or else its connection closed.
    mutating func refuseOversizedBody(_ index: Int, _ client: ConnectionID, io: inout LoopIO) {
        abortExchange(index, io: &io)
        if entries[index].status == 0 {
            answer(413, index, client, close: true, io: &io)
        } else {
            io.close(client)
        }
    }

    mutating func answerBadGateway(_ index: Int, _ client: ConnectionID, io: inout LoopIO) {
        badGateway += 1
        // A request read whole leaves the connection usable (a pipelined next one is taken);
        // one whose body was still coming does not.
        let flags = entries[index].flags
        let keep = entries[index].phase == .awaitingResponse && flags & Flag.keepAlive != 0
            && flags & Flag.clientInputEnded == 0
        answer(502, index, client, close: !keep, io: &io)
    }

    mutating func answer(_ status: Int, _ index: Int, _ client: ConnectionID, close: Bool, io: inout LoopIO) {
        releaseReplay(index)
        releaseGzip(index)
        let flags = entries[index].flags
        var writer = HeadWriter(base: headBuffer, capacity: headCapacity)
        if policy.writeAnswer(
            status: status, tag: flags & Flag.exchangeOpen != 0 ? entries[index].tag : nil, client: context(entries[index], client),
            close: close, http10: flags & Flag.http10 != 0, into: &writer), !writer.overflowed
        {
            io.writeAtBatchEnd(UnsafeRawBufferPointer(start: headBuffer, count: writer.count), on: client)
        } else {
            let position = 2 * Self.answerPosition(status) + (close ? 1 : 0)
            io.writeAtBatchEnd(UnsafeRawBufferPointer(answers[position]), on: client)
        }
        cancelTimer(index, io: &io)
        endExchange(index, client, status: status)
        entries[index].phase = .idle
        entries[index].peer = ConnectionID(index: .max, generation: 0)
        if close {
            entries[index].flags |= Flag.closing
            io.close(client)
            return
        }
        // The connection goes on: the next request (perhaps already read, waiting while this
        // one was answered).
        entries[index].flags = flags & (Flag.secure | Flag.clientInputEnded)
        armIdleTimer(index, io: &io)
        if flags & Flag.clientPaused != 0 { io.resumeReading(client) }
    }

    /// Tells the policy that the client's exchange ended, once per forwarded request
    /// (whichever of the answer, the relay's end, a failure or a close comes first).
    mutating func endExchange(_ index: Int, _ client: ConnectionID, status: Int) {
        guard entries[index].flags & Flag.exchangeOpen != 0 else { return }
        entries[index].flags &= ~Flag.exchangeOpen
        policy.exchangeEnded(
            client: context(entries[index], client), tag: entries[index].tag, status: status, bodyBytes: entries[index].bodyBytes,
            requestBytes: entries[index].request.receivedBytes)
    }

    static var continueLine: StaticString { "HTTP/1.1 100 Continue\r\n\r\n" }

    /// Whether the request asks `Expect: 100-continue` (looked up only for a request whose
    /// body has not arrived with its head).
    static func expectsContinue(_ input: UnsafeRawBufferPointer, _ head: HTTPRequestHead) -> Bool {
        var expects = false
        head.forEachField(in: input) { name, value in
            if name.count == 6 && HTTPScan.matches(name, 0, 6, "expect") && value.count == 12
                && HTTPScan.matches(value, 0, 12, "100-continue")
            {
                expects = true
                return false
            }
            return true
        }
        return expects
    }

    // MARK: - Helpers

    /// Copies a head's start line (unless `keepStartLine` is `false`) and fields, minus the
    /// hop-by-hop fields (Connection, Keep-Alive, Proxy-Connection, TE, Upgrade, and with
    /// `connectionNamesFields` those its `Connection` names) and those `drop` names; stops
    /// before the blank line. `drop` gets the policy by reference: a closure reading
    /// `self.policy` made Swift copy the whole policy struct (a retain and a release of each of
    /// its arrays and references) once per head.
    @inline(__always)
    static func copyHead(
        _ input: UnsafeRawBufferPointer, from start: Int, to end: Int, keepStartLine: Bool = true,
        connectionNamesFields: Bool = false, into writer: inout HeadWriter, policy: inout Policy,
        drop: (inout Policy, UnsafeRawBufferPointer) -> Bool
    ) {
        var lineEnd = start
        while input[lineEnd] != 13 { lineEnd += 1 }
        var copyStart = keepStartLine ? start : lineEnd + 2
        var line = lineEnd + 2
        while line < end - 2 {
            var lineStop = line
            while input[lineStop] != 13 { lineStop += 1 }
            var colon = line
            while input[colon] != UInt8(ascii: ":") { colon += 1 }
            if HTTPScan.isHopByHop(input, line, colon) || drop(&policy, UnsafeRawBufferPointer(rebasing: input[line..<colon]))
                || (connectionNamesFields
                    && HTTPScan.isNamedByConnection(input, from: lineEnd + 2, to: end - 2, name: line, nameEnd: colon))
            {
                // Flush the run of kept lines before this one, skip this one.
                writer.append(UnsafeRawBufferPointer(rebasing: input[copyStart..<line]))
                copyStart = lineStop + 2
            }
            line = lineStop + 2
        }
        writer.append(UnsafeRawBufferPointer(rebasing: input[copyStart..<(end - 2)]))
    }

    func context(_ entry: Entry, _ connection: ConnectionID, stream: Int32 = 0) -> ClientContext {
        ClientContext(
            connection: connection, address: UnsafeRawBufferPointer(start: addressBuffer, count: 0),
            secure: entry.flags & Flag.secure != 0, http2: entry.flags & Flag.http2 != 0, stream: stream)
    }

    func isCurrent(_ connection: ConnectionID) -> Bool {
        let index = Int(connection.index)
        return index < entries.count && entries[index].generation == connection.generation
            && entries[index].role != .free
    }

    mutating func grow(to index: Int) {
        while entries.count <= index { entries.append(Entry()) }
    }

    /// The timer of an exchange with an upstream, by where it stands: the connect timeout while
    /// the connection is being made; then, while the request body comes, the client's body
    /// timeout, or the upstream's send timeout while it does not take what it was given; then
    /// the response timeout. Armed again at each of those steps (and at each body read).
    mutating func armUpstreamTimer(_ index: Int, io: inout LoopIO) {
        let attempt = entries[index].peer
        guard isCurrent(attempt) else { return }
        let timeouts = policy.upstreamTimeouts(tag: entries[index].tag)
        let fallback = configuration.upstreamTimeout
        if entries[Int(attempt.index)].flags & Flag.connected == 0 {
            armTimer(index, .connect, after: timeouts?.connect ?? fallback, io: &io)
        } else if io.isWaitingToWrite(attempt) {
            // A request queued for the batch's end (``LoopIO/writeAtBatchEnd(_:_:on:)``) is not
            // waiting on the upstream: its response timeout runs, not the send timeout.
            armTimer(index, .upstreamSend, after: timeouts?.send ?? fallback, io: &io)
        } else if entries[index].phase == .sendingBody {
            armTimer(index, .clientBody, after: configuration.clientBodyTimeout, io: &io)
        } else {
            armTimer(index, .response, after: timeouts?.response ?? fallback, io: &io)
        }
    }

    /// Stops the entry's timer, if one is armed.
    @inline(__always)
    mutating func cancelTimer(_ index: Int, io: inout LoopIO) {
        guard let timer = entries[index].timer else { return }
        io.cancelTimer(timer)
        entries[index].timer = nil
    }

    mutating func armIdleTimer(_ index: Int, io: inout LoopIO) {
        armTimer(index, .idle, after: configuration.clientIdleTimeout, io: &io)
    }

    mutating func armTimer(_ index: Int, _ kind: TimerKind, after milliseconds: UInt64, io: inout LoopIO) {
        if let timer = entries[index].timer { io.cancelTimer(timer) }
        entries[index].timerKind = kind
        guard milliseconds > 0 else {
            entries[index].timer = nil
            return
        }
        entries[index].timer = io.armTimer(
            at: io.now + milliseconds, payload: UInt64(entries[index].generation) << 32 | UInt64(index))
    }
}

/// ``ProxyHandler``'s per-entry flags (outside the generic type: no static stored
/// properties there).
enum ProxyFlag {
    static let keepAlive: UInt32 = 1 << 0
    static let headRequest: UInt32 = 1 << 1
    /// The client's reading is paused (pipelined bytes wait, or the upstream is slow).
    static let clientPaused: UInt32 = 1 << 2
    /// The upstream's reading is paused (the client is slow).
    static let upstreamPaused: UInt32 = 1 << 3
    static let clientInputEnded: UInt32 = 1 << 4
    /// Upstream entry: it sent its end of stream.
    static let upstreamEnded: UInt32 = 1 << 5
    /// Upstream entry: parked in its pool.
    static let pooled: UInt32 = 1 << 6
    static let secure: UInt32 = 1 << 7
    /// The upstream connection may be kept after this response.
    static let upstreamReusable: UInt32 = 1 << 8
    /// Upstream entry: taken from the keep-alive pool for this exchange (not newly connected).
    static let reusedConnection: UInt32 = 1 << 9
    /// Client entry: this exchange's request was replayed once after a stale connection.
    static let staleRetried: UInt32 = 1 << 10
    /// Client entry: a forwarded request whose end the policy has not been told yet.
    static let exchangeOpen: UInt32 = 1 << 11
    /// Client entry: the response body goes out in the chunked coding (the upstream's ends
    /// with its close).
    static let chunksOut: UInt32 = 1 << 17
    /// Client entry: a request head has started arriving (its timer is the header timeout).
    static let headStarted: UInt32 = 1 << 14
    /// Client entry: the connection is closing (nothing more is read from it).
    static let closing: UInt32 = 1 << 15
    /// Upstream entry: the connection is established.
    static let connected: UInt32 = 1 << 16
    /// Client entry: the request's method is idempotent (it may be sent twice).
    static let idempotent: UInt32 = 1 << 13
    /// Client entry: the request is HTTP/1.0 (its response says `keep-alive` to keep the
    /// connection, and nothing to close it).
    static let http10: UInt32 = 1 << 12
    /// Client entry: the connection speaks HTTP/2 (its session in ``ProxyHandler/sessions``).
    static let http2: UInt32 = 1 << 18
    /// Upstream entry: it carries an HTTP/2 stream's exchange (``ProxyHandler/Entry/stream``).
    static let http2Stream: UInt32 = 1 << 19
    /// HTTP/2 client entry: some streams paused their upstream's reading (full stream buffers).
    static let streamsPaused: UInt32 = 1 << 20
    /// Stream entry: the request body goes upstream in the chunked coding (no length given).
    static let requestChunked: UInt32 = 1 << 21
    /// Client entry: the request asks to switch protocols (`Upgrade`, named by `Connection`).
    static let upgrade: UInt32 = 1 << 22
    /// Client entry: the answer's body is a file being sent (``ProxyHandler/fileSends``).
    static let sendingFile: UInt32 = 1 << 23
    /// Client entry: the request waiting in the buffer was decided, and is forwarded (to
    /// ``ProxyHandler/Entry/upstream``, with ``ProxyHandler/Entry/tag``) once read again.
    static let delayed: UInt32 = 1 << 24
    /// Client entry: the response's chunked body goes out as the chunks' data (an HTTP/1.0
    /// client), ended by the close.
    static let dechunk: UInt32 = 1 << 25
    /// Client entry: the request waiting in the buffer is decided once the policy's answer
    /// comes (or its time is up): ``ProxyDecision/decideLater(milliseconds:)``.
    static let awaitingDecision: UInt32 = 1 << 26
    /// The response is gzipped: a deflater of ``ProxyHandler/Storage/gzip`` is attached to the
    /// entry (the client's for HTTP/1.x, the stream's upstream entry for HTTP/2).
    static let gzip: UInt32 = 1 << 29
}
