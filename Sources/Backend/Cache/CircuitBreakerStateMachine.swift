/// The circuit breaker in front of Redis, as a pure state machine: it never reads a clock (every
/// event takes `now`) and never does I/O (it returns what to do).
///
/// - **Closed**: requests go through. Five consecutive failures open it, and so does one timeout:
///   a slow Redis makes every caller wait out the whole timeout, so there is no point waiting for
///   four more.
/// - **Open**: requests are refused at once (the cache answers "miss") until the cool-down ends.
/// - **Half-open**: after the cool-down the next request goes through as a probe, and only that
///   one: its success closes the breaker, its failure opens it again for another cool-down. A
///   probe that never reports back (its task was cancelled) is replaced after `probeTimeout`.
///
/// Every transition starts a new epoch and every permitted request carries the epoch it was let
/// through in, so outcomes that arrive late (a request let through while closed, failing after
/// the breaker opened) cannot move the breaker again.
public struct CircuitBreakerStateMachine<Instant: InstantProtocol>: Sendable
where Instant: Sendable, Instant.Duration == Duration {
    public struct Configuration: Sendable, Hashable {
        /// Consecutive failures that open the breaker (5, as the original service).
        public var failureThreshold: Int
        /// How long the breaker stays open before probing.
        public var coolDown: Duration
        /// How long a half-open probe may stay unanswered before another request probes instead.
        public var probeTimeout: Duration
        /// Whether one timeout opens the breaker (otherwise it counts as one failure).
        public var timeoutOpensImmediately: Bool

        public init(
            failureThreshold: Int = 5,
            coolDown: Duration = .seconds(5),
            probeTimeout: Duration = .seconds(5),
            timeoutOpensImmediately: Bool = true
        ) {
            precondition(failureThreshold >= 1, "the failure threshold must be at least 1")
            self.failureThreshold = failureThreshold
            self.coolDown = coolDown
            self.probeTimeout = probeTimeout
            self.timeoutOpensImmediately = timeoutOpensImmediately
        }
    }

    /// The state as reported by health and stats.
    public enum Mode: String, Sendable, Hashable, Codable {
        case closed
        case open
        case halfOpen = "half_open"
    }

    /// Proof that a request was let through, handed back with its outcome.
    public struct Ticket: Sendable, Hashable {
        fileprivate let epoch: UInt64
        /// Whether this request is the half-open probe.
        public let isProbe: Bool
    }

    /// What to do with a request.
    public enum RequestAction: Sendable, Hashable {
        /// Send it; report its outcome with the ticket.
        case proceed(Ticket)
        /// Do not send it: the breaker is open (or half-open with its probe in flight).
        case reject
    }

    /// What the owner does after an outcome: nothing, or log the transition.
    public enum Action: Sendable, Hashable {
        case none
        /// The breaker opened; requests are refused until `retryAt`.
        case opened(retryAt: Instant)
        /// The probe succeeded and the breaker closed.
        case closed
    }

    private enum State: Sendable {
        /// Can transition to: `.open` (`failureThreshold` consecutive failures, or a timeout).
        case closed(consecutiveFailures: Int)
        /// Can transition to: `.halfOpen` (a request arrives at or after `retryAt`).
        case open(retryAt: Instant)
        /// Can transition to: `.closed` (the probe succeeded), `.open` (the probe failed or timed
        /// out), `.halfOpen` (the probe was lost: a new probe after `probeTimeout`).
        case halfOpen(probeStartedAt: Instant)
    }

    public let configuration: Configuration
    private var state: State = .closed(consecutiveFailures: 0)
    private var epoch: UInt64 = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// The current state, for stats and readiness.
    public var mode: Mode {
        switch state {
        case .closed: .closed
        case .open: .open
        case .halfOpen: .halfOpen
        }
    }

    /// When requests are let through again: the end of the cool-down while open, the end of the
    /// probe's time while half-open, `nil` while closed. For a `Retry-After` header.
    public var retryAt: Instant? {
        switch state {
        case .closed: nil
        case .open(let retryAt): retryAt
        case .halfOpen(let probeStartedAt): probeStartedAt.advanced(by: configuration.probeTimeout)
        }
    }

    /// A request wants to reach Redis.
    /// - Parameter now: the current time.
    /// - Returns: whether it may, with the ticket to report its outcome.
    public mutating func requestReceived(now: Instant) -> RequestAction {
        switch state {
        case .closed:
            return .proceed(Ticket(epoch: epoch, isProbe: false))
        case .open(let retryAt):
            guard now >= retryAt else { return .reject }
            return startProbe(now: now)
        case .halfOpen(let probeStartedAt):
            guard now >= probeStartedAt.advanced(by: configuration.probeTimeout) else { return .reject }
            return startProbe(now: now)
        }
    }

    /// The request holding `ticket` got its answer from Redis.
    /// - Parameters:
    ///   - ticket: from ``requestReceived(now:)``.
    ///   - now: the current time.
    /// - Returns: ``Action/closed`` when this was the probe.
    public mutating func requestSucceeded(_ ticket: Ticket, now: Instant) -> Action {
        guard ticket.epoch == epoch else { return .none }
        switch state {
        case .closed:
            state = .closed(consecutiveFailures: 0)
            return .none
        case .halfOpen:
            transition(to: .closed(consecutiveFailures: 0))
            return .closed
        case .open:
            preconditionFailure("no ticket is issued while the breaker is open")
        }
    }

    /// The request holding `ticket` failed (connection refused or closed, an error reply).
    /// - Parameters:
    ///   - ticket: from ``requestReceived(now:)``.
    ///   - now: the current time.
    /// - Returns: ``Action/opened(retryAt:)`` when this failure opened the breaker.
    public mutating func requestFailed(_ ticket: Ticket, now: Instant) -> Action {
        guard ticket.epoch == epoch else { return .none }
        switch state {
        case .closed(let failures):
            guard failures + 1 >= configuration.failureThreshold else {
                state = .closed(consecutiveFailures: failures + 1)
                return .none
            }
            return open(now: now)
        case .halfOpen:
            return open(now: now)
        case .open:
            preconditionFailure("no ticket is issued while the breaker is open")
        }
    }

    /// The request holding `ticket` got no answer in time.
    /// - Parameters:
    ///   - ticket: from ``requestReceived(now:)``.
    ///   - now: the current time.
    /// - Returns: ``Action/opened(retryAt:)`` when this timeout opened the breaker.
    public mutating func requestTimedOut(_ ticket: Ticket, now: Instant) -> Action {
        guard ticket.epoch == epoch else { return .none }
        switch state {
        case .closed:
            guard configuration.timeoutOpensImmediately else { return requestFailed(ticket, now: now) }
            return open(now: now)
        case .halfOpen:
            return open(now: now)
        case .open:
            preconditionFailure("no ticket is issued while the breaker is open")
        }
    }

    /// The owner's own probe, made outside the request flow (a background health check), got
    /// its answer: the guarded service is back, so the breaker closes whatever its state.
    /// - Parameter now: the current time.
    /// - Returns: ``Action/closed`` when the breaker was open or half-open.
    public mutating func externalProbeSucceeded(now: Instant) -> Action {
        switch state {
        case .closed:
            return .none
        case .open, .halfOpen:
            transition(to: .closed(consecutiveFailures: 0))
            return .closed
        }
    }

    private mutating func startProbe(now: Instant) -> RequestAction {
        transition(to: .halfOpen(probeStartedAt: now))
        return .proceed(Ticket(epoch: epoch, isProbe: true))
    }

    private mutating func open(now: Instant) -> Action {
        let retryAt = now.advanced(by: configuration.coolDown)
        transition(to: .open(retryAt: retryAt))
        return .opened(retryAt: retryAt)
    }

    private mutating func transition(to newState: State) {
        state = newState
        epoch &+= 1
    }
}
