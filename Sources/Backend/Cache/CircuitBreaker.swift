import Logging
import Synchronization

/// A ``CircuitBreakerStateMachine`` on the real clock, shared by concurrent requests, logging
/// its transitions.
///
/// ```swift
/// guard let ticket = breaker.permit() else { return .miss }   // open: don't even try
/// do {
///     let reply = try await pool.send(command)
///     breaker.succeeded(ticket)
/// } catch {
///     breaker.failed(ticket, error: error)
/// }
/// ```
public final class CircuitBreaker: Sendable {
    public typealias StateMachine = CircuitBreakerStateMachine<ContinuousClock.Instant>

    /// What the breaker guards, for logs (`redis`).
    public let name: String
    /// Threshold, cool-down and probe timeout.
    public let configuration: StateMachine.Configuration
    private let machine: Mutex<StateMachine>
    private let clock = ContinuousClock()
    private let openings = Atomic<Int>(0)
    private let logger: Logger

    /// - Parameters:
    ///   - name: what it guards, for logs.
    ///   - configuration: threshold, cool-down and probe timeout.
    ///   - logger: transitions are logged at warning (opened) and info (closed).
    public init(
        name: String = "redis",
        configuration: StateMachine.Configuration = .init(),
        logger: Logger = Logger(label: "backend.cache")
    ) {
        self.name = name
        self.configuration = configuration
        self.machine = Mutex(StateMachine(configuration: configuration))
        self.logger = logger
    }

    /// closed, open or half-open.
    public var mode: StateMachine.Mode { machine.withLock { $0.mode } }

    /// How long until requests are let through again (`nil` while closed).
    public var retryAfter: Duration? {
        let now = clock.now
        return machine.withLock { $0.retryAt }.map { max(.zero, $0 - now) }
    }

    /// How many times the breaker has opened.
    public var timesOpened: Int { openings.load(ordering: .relaxed) }

    /// Asks to send a request.
    /// - Returns: the ticket to report the outcome with, or `nil` when the request must not be sent.
    public func permit() -> StateMachine.Ticket? {
        let now = clock.now
        let action = machine.withLock { $0.requestReceived(now: now) }
        switch action {
        case .proceed(let ticket):
            if ticket.isProbe {
                logger.debug("circuit breaker half-open, probing", metadata: ["backend.breaker": "\(name)"])
            }
            return ticket
        case .reject:
            return nil
        }
    }

    /// Reports a request that got its answer.
    public func succeeded(_ ticket: StateMachine.Ticket) {
        let now = clock.now
        perform(machine.withLock { $0.requestSucceeded(ticket, now: now) }, cause: nil)
    }

    /// Reports a request that failed; a ``RedisError`` timeout counts as a timeout.
    /// - Parameters:
    ///   - ticket: from ``permit()``.
    ///   - error: why, for the log.
    ///   - isTimeout: whether it got no answer in time (`nil`: a ``RedisError`` timeout).
    public func failed(_ ticket: StateMachine.Ticket, error: any Error, isTimeout: Bool? = nil) {
        let now = clock.now
        let isTimeout = isTimeout ?? ((error as? RedisError)?.isTimeout ?? false)
        let action = machine.withLock {
            isTimeout ? $0.requestTimedOut(ticket, now: now) : $0.requestFailed(ticket, now: now)
        }
        perform(action, cause: error)
    }

    /// Reports that a probe of the owner's own (outside the request flow) got its answer.
    public func externalProbeSucceeded() {
        let now = clock.now
        perform(machine.withLock { $0.externalProbeSucceeded(now: now) }, cause: nil)
    }

    private func perform(_ action: StateMachine.Action, cause: (any Error)?) {
        switch action {
        case .none:
            break
        case .opened(let retryAt):
            openings.add(1, ordering: .relaxed)
            let coolDown = retryAt - clock.now
            logger.warning(
                "circuit breaker opened: requests skip \(name) until the cool-down ends",
                metadata: [
                    "backend.breaker": "\(name)",
                    "backend.breaker.cool_down_ms": "\(Self.milliseconds(coolDown))",
                    "backend.breaker.cause": "\(cause.map { "\($0)" } ?? "unknown")",
                ])
        case .closed:
            logger.info("circuit breaker closed: \(name) answers again", metadata: ["backend.breaker": "\(name)"])
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
