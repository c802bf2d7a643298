import Limits

/// The health of one upstream server: passive (nginx `max_fails` / `fail_timeout`) and active
/// (health-check probes with `rise` / `fall` counts). Pure: every event takes `now`, an
/// ``Limits/Instant`` of the edge's clock.
///
/// Passive: `maxFails` failures within `failTimeout` take the server out for `failTimeout`;
/// after that one request is let through as a probe (nginx does the same), and a success clears
/// the count. Active: `fall` consecutive failed probes take it out until `rise` consecutive
/// successes; a server with active checks starts in, as nginx's without `health_check mandatory`.
public struct ServerHealth: Sendable, Equatable {
    public let maxFails: Int
    public let failTimeout: Duration
    public let rise: Int
    public let fall: Int

    private var failures = 0
    private var firstFailureAt = Instant(nanoseconds: 0)
    private var downUntil = Instant(nanoseconds: 0)
    private var activelyDown = false
    private var probeStreak = 0

    /// - Parameters:
    ///   - maxFails: failures that take the server out (0: never, passively).
    ///   - failTimeout: window for counting failures, and the time a server stays out.
    ///   - rise: successful probes that bring it back; `fall`: failed probes that take it out.
    public init(maxFails: Int, failTimeout: Duration, rise: Int = 2, fall: Int = 3) {
        self.maxFails = maxFails
        self.failTimeout = failTimeout
        self.rise = rise
        self.fall = fall
    }

    /// Whether requests may go to this server at `now`.
    public func isAvailable(now: Instant) -> Bool {
        !activelyDown && now >= downUntil
    }

    /// From when requests may go to this server (`nil`: not until probes bring it back):
    /// ``isAvailable(now:)`` as one value, which a shared server publishes for lock-free reads.
    public var availableFrom: Instant? { activelyDown ? nil : downUntil }

    /// Whether a failure is being counted (``requestSucceeded()`` has something to clear).
    public var hasFailures: Bool { failures > 0 }

    /// A request to it failed (connect error, reset before the response, timeout).
    public mutating func requestFailed(now: Instant) {
        guard maxFails > 0 else { return }
        if failures == 0 || now.duration(since: firstFailureAt) > failTimeout {
            failures = 0
            firstFailureAt = now
        }
        failures += 1
        if failures >= maxFails {
            downUntil = now.advanced(by: failTimeout)
            failures = 0
        }
    }

    /// A request to it got a response.
    public mutating func requestSucceeded() {
        failures = 0
    }

    /// An active probe's outcome.
    /// - Returns: `true` when this changed whether the server is actively down (for logging).
    @discardableResult
    public mutating func probed(healthy: Bool) -> Bool {
        if healthy == !activelyDown {
            probeStreak = 0
            return false
        }
        probeStreak += 1
        if probeStreak >= (activelyDown ? rise : fall) {
            activelyDown.toggle()
            probeStreak = 0
            if !activelyDown { downUntil = Instant(nanoseconds: 0) }
            return true
        }
        return false
    }
}
