/// The timings the supervisor applies to its workers (gunicorn's `timeout`, `graceful_timeout`),
/// plus how it backs off from a worker that keeps dying.
public struct SupervisionPolicy: Sendable, Hashable {
    /// A worker silent for longer than this (no heartbeat, no message) is killed and replaced.
    /// It also bounds a worker's start-up, from spawn to "ready".
    public var workerTimeout: Duration
    /// How long a draining worker (recycled, replaced, shutting down) may take before `SIGKILL`.
    public var gracefulTimeout: Duration
    /// The delay before the second consecutive restart of a slot; it doubles with each further
    /// failure. The first restart after a failure is immediate, as gunicorn's.
    public var initialRestartDelay: Duration
    /// The longest delay between restarts of a slot that keeps failing.
    public var maximumRestartDelay: Duration
    /// A worker that served at least this long before dying was healthy: its death starts a new
    /// series of failures instead of extending the last one.
    public var healthyUptime: Duration

    public init(
        workerTimeout: Duration = .seconds(120),
        gracefulTimeout: Duration = .seconds(30),
        initialRestartDelay: Duration = .milliseconds(500),
        maximumRestartDelay: Duration = .seconds(30),
        healthyUptime: Duration = .seconds(10)
    ) {
        self.workerTimeout = workerTimeout
        self.gracefulTimeout = gracefulTimeout
        self.initialRestartDelay = initialRestartDelay
        self.maximumRestartDelay = maximumRestartDelay
        self.healthyUptime = healthyUptime
    }

    /// The wait before restarting a slot after `failures` consecutive failures (1 for the first).
    /// - Returns: zero for the first failure, then `initialRestartDelay` doubled per further
    ///   failure, at most `maximumRestartDelay`.
    public func restartDelay(afterFailures failures: Int) -> Duration {
        guard failures > 1 else { return .zero }
        var delay = initialRestartDelay
        for _ in 2..<failures {
            delay *= 2
            if delay >= maximumRestartDelay { return maximumRestartDelay }
        }
        return min(delay, maximumRestartDelay)
    }
}
