import EdgeRules

/// One proxied request's way through the upstream, as a state machine: when the first attempt
/// starts, what an attempt's failure leads to (``UpstreamRetryPolicy``'s table), when the
/// response has started (after which nothing is retried), and whether the upstream connection
/// can be reused at the end. Pure; ``Exchange`` is its SwiftNIO shell.
///
/// ```
/// waiting ─start─▶ connecting ─connected─▶ sending ─response head─▶ responding ─end─▶ finished
///    ▲                 │  ▲                   │                         │
///    │                 └──┴── failed: next server / reconnect ──────────┘ (broken: finished)
///    └─ (waits for the request's end when the body is held)       101 ─▶ switching ─end─▶ finished (tunnel)
/// ```
struct UpstreamExchangeMachine: Equatable {
    enum Phase: Equatable {
        /// Not started: held by a rate limit's delay, or waiting for a held body's end.
        case waiting
        /// An attempt is opening a new connection.
        case connecting
        /// Connected (`reused`: an idle pooled connection); the request goes up, no response byte yet.
        case sending(reused: Bool)
        /// The response head arrived: nothing is retried from here.
        case responding
        /// The upstream switched protocols (a WebSocket's 101): a tunnel takes over at the response's end.
        case switching
        /// Done: answered, failed, aborted or broken.
        case finished
    }

    /// What an attempt's failure leads to.
    enum AfterFailure: Equatable {
        /// Try another server (`strike`: a passive health failure for the one that failed).
        case nextServer(strike: Bool)
        /// The same server on a new connection (a stale pooled one): no strike, no try spent.
        case reconnect
        /// Answer the client with 502 or 504.
        case fail(status: Int, strike: Bool)
        /// The response had started: only a close can tell the client.
        case broken(strike: Bool)
        /// The exchange had ended already: nothing to do.
        case ignored
    }

    /// What the client's end of the request leads to.
    enum AfterRequestEnd: Equatable {
        /// The first attempt can start now (the request was held until its end).
        case startAttempt
        /// Send the end of the body upstream (the last chunk).
        case forwardEnd
        /// Nothing yet (not connected; the end goes up with the attempt).
        case none
    }

    /// What the end of the response leads to.
    enum AfterResponse: Equatable {
        /// Hand both connections to a tunnel.
        case tunnel
        /// Done: `reuseConnection` when both messages completed and the upstream keeps the connection.
        case finished(reuseConnection: Bool)
        /// The exchange had ended already.
        case ignored
    }

    private(set) var phase: Phase = .waiting
    /// Whether the client's request has ended (its last body byte, or a bodiless head).
    private(set) var requestEnded = false
    /// Whether the one stale-connection retry was used already.
    private(set) var staleRetryUsed = false
    /// The answer when no server is left: 504 after a connect timeout, else 502.
    private(set) var exhaustedStatus = 502
    /// Whether an attempt was made yet.
    private(set) var attempted = false
    private var startRequested = false
    /// The request goes up only once whole (bodiless, or a small HTTP/2 body held to its end).
    let waitsForEnd: Bool
    let idempotent: Bool
    let upgradeRequested: Bool

    init(waitsForEnd: Bool, idempotent: Bool, upgradeRequested: Bool) {
        self.waitsForEnd = waitsForEnd
        self.idempotent = idempotent
        self.upgradeRequested = upgradeRequested
    }

    /// Whether a response head went to the client (it stays so once the exchange finished:
    /// a failure after it can only close the connection).
    private(set) var responseStarted = false

    var isFinished: Bool { phase == .finished }
    /// Whether an upstream connection carries the request now.
    var isConnected: Bool {
        switch phase {
        case .sending, .responding, .switching: true
        case .waiting, .connecting, .finished: false
        }
    }

    /// The connection lets the request start (at once, or when a delay passed).
    /// - Returns: whether to make the first attempt now.
    mutating func start() -> Bool {
        startRequested = true
        return !waitsForEnd || requestEnded
    }

    /// An attempt begins on `server`: on a pooled connection (`reused`) or a new one.
    mutating func attemptBegan(reused: Bool) {
        guard phase != .finished else { return }
        attempted = true
        phase = reused ? .sending(reused: true) : .connecting
    }

    /// The new connection of the current attempt is up.
    mutating func connected() {
        if phase == .connecting { phase = .sending(reused: false) }
    }

    mutating func requestEnd() -> AfterRequestEnd {
        guard phase != .finished, !requestEnded else { return .none }
        requestEnded = true
        if waitsForEnd { return startRequested && !attempted ? .startAttempt : .none }
        return isConnected ? .forwardEnd : .none
    }

    /// An attempt ended without a response (or the response broke off).
    /// - Parameters:
    ///   - failure: what happened; for a close before any byte, whether the connection was a pooled one is the machine's.
    ///   - replayable: whether the body sent so far is still held (64 KiB at most).
    mutating func attemptFailed(_ failure: UpstreamRetryPolicy.Failure, replayable: Bool) -> AfterFailure {
        guard phase != .finished else { return .ignored }
        var failure = failure
        if case .closedBeforeResponse = failure {
            failure = .closedBeforeResponse(reusedConnection: phase == .sending(reused: true))
        }
        let decision = UpstreamRetryPolicy.decide(
            failure,
            .init(idempotent: idempotent, replayable: replayable, responseStarted: responseStarted, staleRetryUsed: staleRetryUsed))
        switch decision {
        case .broken(let strike):
            phase = .finished
            return .broken(strike: strike)
        case .reconnect:
            staleRetryUsed = true
            phase = .waiting
            return .reconnect
        case .nextServer(let strike):
            if failure == .connectTimedOut { exhaustedStatus = 504 }
            phase = .waiting
            return .nextServer(strike: strike)
        case .fail(let status, let strike):
            phase = .finished
            return .fail(status: status, strike: strike)
        }
    }

    /// No server is left to try: the exchange fails with ``exhaustedStatus``.
    mutating func exhausted() -> Int? {
        guard phase != .finished else { return nil }
        phase = .finished
        return exhaustedStatus
    }

    /// The response head arrived.
    /// - Returns: whether the exchange becomes a tunnel (an upgrade answered with 101).
    mutating func responseHead(status: Int) -> Bool {
        guard phase != .finished else { return false }
        responseStarted = true
        phase = upgradeRequested && status == 101 ? .switching : .responding
        return phase == .switching
    }

    /// The response ended.
    mutating func responseEnd(upstreamKeepsConnection: Bool) -> AfterResponse {
        switch phase {
        case .finished: return .ignored
        case .switching:
            phase = .finished
            return .tunnel
        default:
            phase = .finished
            return .finished(reuseConnection: requestEnded && upstreamKeepsConnection)
        }
    }

    /// The exchange stops (the client left, a body over the limit, a malformed body, a stall).
    /// - Returns: whether it was still running.
    mutating func abort() -> Bool {
        guard phase != .finished else { return false }
        phase = .finished
        return true
    }
}
