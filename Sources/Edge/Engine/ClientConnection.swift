import Limits

/// The life of one client connection (or one HTTP/2 stream), as a state machine: which request
/// is in progress, whether the connection stays open after it, when it times out, when reads
/// stop, and how it closes. Pure: events come in with the time, decisions go out as values, and
/// the I/O shell (``ClientHandler`` on SwiftNIO) carries them out. Keep-alive, pipelining,
/// draining and closing are decided here and nowhere else.
///
/// `Exchange` is the shell's object for a proxied request; the machine only holds it.
///
/// ```
///  awaitingHead ──head──▶ local ───────response+request ended──▶ awaitingHead (keep-alive)
///       │  ▲    │   ▲   └───▶ delayed ─▶ proxying ─response ended──▶ awaitingHead
///       │  │    └─▶ askingSharedZone ─answer─▶ local / delayed / proxying
///       │  └──────────────────────────────────────────────────────────┘
///       └─ timeout / drain / not keep-alive ─▶ closing ─(unread input)─▶ lingering ─▶ closed
/// ```
struct ClientConnection<Exchange: AnyObject> {
    /// Where the connection is in the life of its current request.
    enum Phase {
        /// Waiting for a request head (`first`: the connection's first). `headStarted` is when
        /// the first bytes of a head arrived, while it is incomplete.
        case awaitingHead(first: Bool, headStarted: Instant?)
        /// A strict shared zone decides the request: its store's answer (or the zone's timeout)
        /// comes back as `sharedZoneAnswered(token)`. What the client sends meanwhile (the
        /// request's body, a pipelined request) is held, and no head wait runs: a request is in
        /// progress. `token` tells this ask's answer from a late answer to an earlier one.
        case askingSharedZone(token: UInt64)
        /// The edge answers itself; body parts still arriving are dropped until the request ends.
        case local(requestEnded: Bool, responseEnded: Bool, keepAlive: Bool)
        /// A rate limit holds the request (nginx's delay mode) until its timer fires.
        case delayed(Exchange)
        /// Proxying: the exchange streams the body up and the response down.
        case proxying(Exchange)
        /// Closing; everything is dropped.
        case closing
        /// The last answer is on the socket and the sending side is shut: what the client still
        /// sends is read and dropped until it closes or `lingering` passes.
        case lingering
    }

    /// An HTTP/1.1 connection, or one stream of an HTTP/2 connection (one request, whose
    /// connection-level timeouts belong to the parent).
    enum Mode: Equatable {
        case http1
        case http2Stream
    }

    /// The client timeouts the machine enforces (`timeouts:` in the configuration).
    struct Timeouts: Equatable {
        var header: Duration
        var keepAlive: Duration
        var body: Duration
        var lingering: Duration
        /// A client that takes nothing of a response for this long is dropped (a stream reset on HTTP/2).
        var send: Duration = .seconds(10)
    }

    /// What the connection's one wait timer (head, keep-alive idle, lingering) should do.
    enum WaitTimer: Equatable {
        case arm(Instant)
        case disarm
        case unchanged
    }

    /// What to do after a response ended (or a refused body's end arrived after it).
    enum AfterResponse: Equatable {
        /// Wait for the next request: resume reads, arm the wait timer, take pipelined parts.
        case nextRequest(WaitTimer)
        /// Wait for the rest of a request body (dropped) before taking the next request.
        case awaitRequestEnd
        /// A stream's one request is done; the HTTP/2 layer closes the stream.
        case streamDone
        /// Close once the answer is on the socket; linger first when the client may still send.
        case close(unreadInput: Bool)
    }

    /// What the wait timer's firing means.
    enum WaitExpiry: Equatable {
        /// An idle keep-alive connection, or a lingering one whose client never closed: close.
        case close
        /// A request head started but did not complete in `header`: answer 408 and close.
        case requestTimeout
        /// Nothing to do (the deadline was for a state that has passed).
        case none
    }

    /// What the body timer's firing means.
    enum BodyExpiry: Equatable {
        /// The body kept coming (or our own backpressure paused it): look again at this time.
        case rearm(Instant)
        /// The client stalled for `body`: 408, or a close when the response had started.
        case timedOut
        /// No body is streaming any more.
        case none
    }

    private(set) var phase: Phase = .awaitingHead(first: true, headStarted: nil)
    let mode: Mode
    let timeouts: Timeouts
    /// A drain (shutdown) was requested: the request in progress finishes, then the connection closes.
    private(set) var draining = false
    /// The current request's head asked to keep the connection (its version and `Connection`).
    private(set) var requestKeepAlive = true
    /// Why reads are stopped, and whether a read is owed once they resume.
    private(set) var reads = ReadGate()

    init(mode: Mode, timeouts: Timeouts) {
        self.mode = mode
        self.timeouts = timeouts
    }

    // MARK: Waiting for a head

    /// The connection became active: its first request has `header` to arrive.
    func activated(now: Instant) -> WaitTimer {
        mode == .http1 ? .arm(now.advanced(by: timeouts.header)) : .unchanged
    }

    /// The first bytes of a head arrived and the head is incomplete: from them it has `header`.
    mutating func headStarted(at first: Instant) -> WaitTimer {
        guard mode == .http1, case .awaitingHead(let isFirst, nil) = phase else { return .unchanged }
        phase = .awaitingHead(first: isFirst, headStarted: first)
        return .arm(first.advanced(by: timeouts.header))
    }

    /// A whole head was parsed: the wait ends (the filter chain decides what follows).
    mutating func headReceived(keepAlive: Bool) -> WaitTimer {
        guard case .awaitingHead = phase else { preconditionFailure("a request head while \(phase)") }
        requestKeepAlive = keepAlive
        return .disarm
    }

    /// HTTP/2: the stream's answer is ended, but its last frame leaves only when the client's
    /// flow-control window lets it (and a stream's writability does not show a shut window for
    /// a small answer). A client that keeps the window shut for `send` gets the stream reset, as
    /// nginx's `send_timeout` does; the connection and its other streams go on. A stream has no
    /// head or idle waits, so this deadline is its wait timer.
    func streamAnswerEnded(now: Instant) -> WaitTimer {
        mode == .http2Stream ? .arm(now.advanced(by: timeouts.send)) : .unchanged
    }

    /// The wait timer fired.
    func waitExpired() -> WaitExpiry {
        if mode == .http2Stream { return .close }  // the send deadline of the stream's answer
        switch phase {
        case .lingering: return .close
        case .awaitingHead(_, let headStarted): return headStarted == nil ? .close : .requestTimeout
        case .askingSharedZone, .local, .delayed, .proxying, .closing: return .none
        }
    }

    // MARK: Requests

    /// Whether the connection stays open after the current request's answer: what the client
    /// asked, unless the answer must close or the edge is draining. The one keep-alive rule.
    func keepsAlive(mustClose: Bool = false) -> Bool {
        !mustClose && !draining && requestKeepAlive
    }

    /// The filter chain asks a strict shared zone about the request (its head was received).
    /// The shell numbers its asks; the answer to `token` is the one that counts.
    mutating func askSharedZone(token: UInt64) {
        guard case .awaitingHead = phase else { preconditionFailure("a shared zone asked while \(phase)") }
        phase = .askingSharedZone(token: token)
    }

    /// A shared zone's answer (or its timeout) for the ask `token` came back.
    /// - Returns: whether the request goes on with it (the shell then acts on the resumed
    ///   verdict, which moves the machine on); `false` for an answer nobody waits for any more
    ///   (a second one, or the connection closed or moved on meanwhile).
    func sharedZoneAnswered(token: UInt64) -> Bool {
        guard case .askingSharedZone(let asked) = phase else { return false }
        return asked == token
    }

    /// The edge answers the request itself.
    /// - Returns: whether the connection stays open after the answer; when it does not and a
    ///   body follows, reads stop (a refused body is not read; the close ends it).
    mutating func beginLocal(mustClose: Bool, hasBody: Bool) -> Bool {
        let keepAlive = keepsAlive(mustClose: mustClose)
        phase = .local(requestEnded: false, responseEnded: false, keepAlive: keepAlive)
        if !keepAlive && hasBody { reads.backpressure = true }
        return keepAlive
    }

    /// The request goes to an upstream, now or after a rate limit's delay. Reads stop while a
    /// body waits for the upstream connection.
    mutating func beginProxy(_ exchange: Exchange, delayed: Bool, pausesReads: Bool) {
        phase = delayed ? .delayed(exchange) : .proxying(exchange)
        if pausesReads { reads.backpressure = true }
    }

    /// The delay of a held request passed: it starts, unless the connection moved on.
    mutating func delayElapsed(_ exchange: Exchange) -> Bool {
        guard case .delayed(let waiting) = phase, waiting === exchange else { return false }
        phase = .proxying(exchange)
        return true
    }

    /// The exchange failed before its response started: the edge answers instead.
    /// - Returns: whether the connection stays open after that answer.
    mutating func exchangeFailed(requestEnded: Bool, mustClose: Bool) -> Bool {
        let keepAlive = keepsAlive(mustClose: mustClose || !requestEnded)
        phase = .local(requestEnded: requestEnded, responseEnded: false, keepAlive: keepAlive)
        reads.backpressure = !keepAlive
        return keepAlive
    }

    /// The request's end arrived while the edge answers locally.
    /// - Returns: what comes next when the answer had ended already, else `nil`.
    mutating func localRequestEnded(now: Instant, pipelinedWaiting: Bool) -> AfterResponse? {
        guard case .local(false, let responseEnded, let keepAlive) = phase else { return nil }
        phase = .local(requestEnded: true, responseEnded: responseEnded, keepAlive: keepAlive)
        guard responseEnded else { return nil }
        // The answer was ended already: go on, or close (a drain may have come in between).
        return next(keepAlive: keepAlive, requestEnded: true, pipelinedWaiting: pipelinedWaiting, now: now)
    }

    /// The local answer's end is written (or queued).
    mutating func localResponseEnded(now: Instant, pipelinedWaiting: Bool) -> AfterResponse {
        guard case .local(let requestEnded, _, let keepAlive) = phase else { return .close(unreadInput: false) }
        if keepAlive && !requestEnded {
            phase = .local(requestEnded: false, responseEnded: true, keepAlive: true)
            return .awaitRequestEnd
        }
        return next(keepAlive: keepAlive, requestEnded: requestEnded, pipelinedWaiting: pipelinedWaiting, now: now)
    }

    /// The proxied response ended.
    mutating func exchangeFinished(keepAlive: Bool, requestEnded: Bool, now: Instant, pipelinedWaiting: Bool) -> AfterResponse {
        next(keepAlive: keepAlive, requestEnded: requestEnded, pipelinedWaiting: pipelinedWaiting, now: now)
    }

    /// "Go on to the next request or close", in one place.
    private mutating func next(keepAlive: Bool, requestEnded: Bool, pipelinedWaiting: Bool, now: Instant)
        -> AfterResponse
    {
        // A stream carries one request and "keep-alive" means nothing to it (an HTTP/2 head has
        // no keep-alive default, and the connection's life, drain included, is the HTTP/2
        // layer's): once both sides have ended, the HTTP/2 layer closes the stream itself, so
        // closing it here too would only cost a promise and a callback per request.
        if mode == .http2Stream && requestEnded {
            phase = .closing
            return .streamDone
        }
        if keepAlive && requestEnded && !draining {
            phase = .awaitingHead(first: false, headStarted: nil)
            reads.backpressure = false
            return .nextRequest(.arm(now.advanced(by: timeouts.keepAlive)))
        }
        phase = .closing
        return .close(unreadInput: !requestEnded || pipelinedWaiting)
    }

    /// The connection closes after what is being written now (an answer written below the HTTP
    /// layer, a response that cannot be completed, a switch to a tunnel): nothing more is read
    /// as requests, and the request in progress is not abandoned by the close.
    mutating func startClosing() {
        phase = .closing
    }

    // MARK: Pipelining

    /// Whether the current request was read whole while its answer is still going out, so that
    /// what arrives now belongs to the next one and waits.
    func holdsNextRequest(requestEndedOf requestEnded: (Exchange) -> Bool) -> Bool {
        switch phase {
        case .awaitingHead, .closing, .lingering: false
        case .askingSharedZone: true  // its body or a next request: taken once it goes on
        case .local(let requestEnded, _, _): requestEnded
        case .proxying(let exchange), .delayed(let exchange): requestEnded(exchange)
        }
    }

    // MARK: Draining and closing

    /// Shutdown: finish the request in progress, then close.
    /// - Returns: whether to close now (an idle HTTP/1 connection with nothing pipelined).
    mutating func drain(pipelinedWaiting: Bool) -> Bool {
        draining = true
        guard mode == .http1, case .awaitingHead = phase, !pipelinedWaiting else { return false }
        phase = .closing
        return true
    }

    /// The last answer is on the socket. With input the client may still be sending, an HTTP/1
    /// connection lingers (half-closed, reading and dropping) rather than close with unread
    /// bytes, which would make the kernel send a reset that destroys the answer's unread tail.
    /// - Returns: the lingering deadline, or `nil` to close now.
    mutating func lastAnswerWritten(unreadInput: Bool, stillOpen: Bool, now: Instant) -> Instant? {
        guard unreadInput, mode == .http1, stillOpen else {
            phase = .closing
            return nil
        }
        phase = .lingering
        reads = ReadGate()
        return now.advanced(by: timeouts.lingering)
    }

    /// The connection is closing (the client left, an error, a timeout).
    /// - Returns: the exchange that was in progress, to abandon.
    mutating func closed() -> Exchange? {
        defer { phase = .closing }
        switch phase {
        case .proxying(let exchange), .delayed(let exchange): return exchange
        case .awaitingHead, .askingSharedZone, .local, .closing, .lingering: return nil
        }
    }

    // MARK: Body timeout

    /// The `client_body` timer fired for a request body still streaming: the client had
    /// `body` from its last bytes; time paused by the edge's own backpressure does not count.
    func bodyTimerFired(now: Instant, lastRead: Instant, requestEnded: Bool) -> BodyExpiry {
        guard case .proxying = phase, !requestEnded else { return .none }
        if reads.backpressure { return .rearm(now.advanced(by: timeouts.body)) }
        let idle = now.duration(since: lastRead)
        if idle < timeouts.body { return .rearm(now.advanced(by: timeouts.body - idle)) }
        return .timedOut
    }

    // MARK: Reads

    /// The shell wants to read (NIO's `read`): whether to read now, or owe it until reads resume.
    mutating func readRequested() -> Bool {
        if case .lingering = phase { return true }
        return reads.request()
    }

    /// Backpressure from the upstream (or a body waiting for a connection).
    /// - Returns: whether an owed read is due now.
    mutating func setBackpressure(_ paused: Bool) -> Bool {
        reads.backpressure = paused
        return reads.takeOwedRead()
    }

    /// Parts of a pipelined request are held (reads stop) or were all taken (reads resume).
    /// - Returns: whether an owed read is due now.
    mutating func setPipelineHold(_ held: Bool) -> Bool {
        reads.pipelineHold = held
        return reads.takeOwedRead()
    }

    /// After a phase change that resumed reads: whether an owed read is due now.
    mutating func takeOwedRead() -> Bool { reads.takeOwedRead() }
}

/// Why a connection does not read, and whether it owes a read (SwiftNIO asks once and expects
/// the read later; the edge's own core asks the same way).
struct ReadGate: Equatable {
    /// The upstream cannot take more, or a body waits for the upstream connection, or a refused body.
    var backpressure = false
    /// Parts of a pipelined next request wait for the current answer.
    var pipelineHold = false
    /// A read was asked for while stopped.
    var owed = false

    var isOpen: Bool { !backpressure && !pipelineHold }

    /// - Returns: whether to read now.
    mutating func request() -> Bool {
        if isOpen { return true }
        owed = true
        return false
    }

    /// - Returns: whether the owed read is due now (and clears it).
    mutating func takeOwedRead() -> Bool {
        guard isOpen, owed else { return false }
        owed = false
        return true
    }
}
