/// When a shared zone syncs with the store, and whether it is shared at all right now: the sync
/// schedule and a circuit breaker in one table, with time as an input.
///
/// The zone decides every request locally in both modes; what the breaker switches is only
/// whether the zone hears from the other edges. So falling back costs no request anything, and
/// a store that is down or slow is noticed within `failureThreshold` sync attempts (each at
/// most `syncInterval` + the command timeout apart).
///
/// ```
///            timerFired                       syncSucceeded
///   shared ─────────────▶ syncing(shared) ──────────────────▶ shared
///     ▲                        │ syncFailed (failures < threshold) ──▶ shared
///     │                        │ syncFailed (failures = threshold) ──▶ local   [fellBackToLocal]
///     │  syncSucceeded         ▼
///     └──────────── syncing(probe) ◀──────── local (timerFired at nextProbe)
///     [resumedShared]          │ syncFailed ──▶ local (next probe after retryInterval)
/// ```
///
/// A strict zone's queued requests start a sync at once while shared (``requestsWaiting(now:)``),
/// so each round trip carries every request queued while the previous one was away.
public struct SharedZoneSyncStateMachine: Sendable {
    /// The schedule and the breaker's thresholds.
    public struct Configuration: Sendable, Equatable {
        /// Time from the start of one sync to the next while shared.
        public var syncInterval: Duration
        /// Consecutive failed syncs (errors or timeouts) that switch the zone to local limits.
        public var failureThreshold: Int
        /// Time between attempts to reach the store again while local.
        public var retryInterval: Duration

        public init(syncInterval: Duration, failureThreshold: Int = 3, retryInterval: Duration = .seconds(1)) {
            precondition(syncInterval > .zero && retryInterval > .zero && failureThreshold >= 1)
            self.syncInterval = syncInterval
            self.failureThreshold = failureThreshold
            self.retryInterval = retryInterval
        }
    }

    /// Where the zone's decisions come from now.
    public enum Mode: Sendable, Equatable {
        /// Reconciled with the other edges through the store.
        case shared
        /// This edge's own view only: the store is unreachable or too slow.
        case local
    }

    enum State: Sendable, Equatable {
        /// Shared; the next sync is due at `nextSync`.
        /// Can transition to: `.syncing`.
        case shared(nextSync: Instant, failures: Int)
        /// A batch is with the store (`probe`: sent from local mode to see whether it is back).
        /// Can transition to: `.shared`, `.local`.
        case syncing(started: Instant, failures: Int, probe: Bool)
        /// Local only (since ``outageStart``); the store is tried again at `nextProbe`.
        /// Can transition to: `.syncing(probe: true)`.
        case local(nextProbe: Instant)
    }

    /// What the driver does next.
    public enum Action: Sendable, Equatable {
        /// Nothing to do until `until` (then call ``timerFired(now:)``).
        case wait(until: Instant)
        /// Cut a batch and send it, then report ``syncSucceeded(now:)`` or ``syncFailed(now:)``
        /// (or ``syncSkipped(now:)`` for an empty batch that is not a probe). A probe with an
        /// empty batch still checks the store (a PING).
        case sync(probe: Bool)
    }

    /// What a finished sync changed, for the driver to log and export.
    public enum Transition: Sendable, Equatable {
        case none
        /// The zone just became local: log once (a warning), set the mode metric.
        case fellBackToLocal
        /// The store answered again after `outage`: log, set the mode metric.
        case resumedShared(outage: Duration)
    }

    private var state: State
    public let configuration: Configuration

    /// - Parameters:
    ///   - configuration: the schedule and thresholds.
    ///   - now: the start time; the first sync is due one interval later.
    public init(configuration: Configuration, now: Instant) {
        self.configuration = configuration
        state = .shared(nextSync: now.advanced(by: configuration.syncInterval), failures: 0)
    }

    /// The mode the zone is in (a probe in flight is still local; a failing sync not yet at the
    /// threshold is still shared).
    public var mode: Mode {
        switch state {
        case .shared: return .shared
        case .syncing(_, _, let probe): return probe ? .local : .shared
        case .local: return .local
        }
    }

    /// The action due now: a sync when its time has come, otherwise how long to wait.
    public mutating func timerFired(now: Instant) -> Action {
        switch state {
        case .shared(let nextSync, let failures):
            guard now >= nextSync else { return .wait(until: nextSync) }
            state = .syncing(started: now, failures: failures, probe: false)
            return .sync(probe: false)
        case .local(let nextProbe):
            guard now >= nextProbe else { return .wait(until: nextProbe) }
            state = .syncing(started: now, failures: configuration.failureThreshold, probe: true)
            return .sync(probe: true)
        case .syncing:
            preconditionFailure("timerFired while a sync is in flight: the driver waits for its result")
        }
    }

    /// Requests of a strict zone are queued: while shared, a round trip starts at once rather
    /// than at the next scheduled sync (it carries the batch due by then too, if any).
    /// - Returns: the sync to run, or `nil` while local (the queue decides locally then).
    public mutating func requestsWaiting(now: Instant) -> Action? {
        switch state {
        case .shared(_, let failures):
            state = .syncing(started: now, failures: failures, probe: false)
            return .sync(probe: false)
        case .local:
            return nil
        case .syncing:
            preconditionFailure("requestsWaiting while a sync is in flight: the driver waits for its result")
        }
    }

    /// The batch was empty and not a probe: nothing was sent.
    public mutating func syncSkipped(now: Instant) -> Action {
        switch state {
        case .syncing(let started, let failures, probe: false):
            state = .shared(nextSync: started.advanced(by: configuration.syncInterval), failures: failures)
            return timerFired(now: now)
        case .syncing(_, _, probe: true), .shared, .local:
            preconditionFailure("syncSkipped outside a non-probe sync")
        }
    }

    /// The store answered (and the driver merged its answer).
    /// - Returns: the mode change, if any, and the next action.
    public mutating func syncSucceeded(now: Instant) -> (Transition, Action) {
        switch state {
        case .syncing(let started, _, let probe):
            state = .shared(nextSync: started.advanced(by: configuration.syncInterval), failures: 0)
            let transition: Transition = probe ? .resumedShared(outage: now.duration(since: outageStart ?? started)) : .none
            if probe { outageStart = nil }
            return (transition, timerFired(now: now))
        case .shared, .local:
            preconditionFailure("syncSucceeded without a sync in flight")
        }
    }

    /// The store did not answer in time, or answered an error; the batch's counts are lost.
    /// - Returns: the mode change, if any, and the next action.
    public mutating func syncFailed(now: Instant) -> (Transition, Action) {
        switch state {
        case .syncing(let started, let failures, let probe):
            if probe {
                state = .local(nextProbe: now.advanced(by: configuration.retryInterval))
                return (.none, timerFired(now: now))
            }
            let failures = failures + 1
            if failures >= configuration.failureThreshold {
                outageStart = now
                state = .local(nextProbe: now.advanced(by: configuration.retryInterval))
                return (.fellBackToLocal, timerFired(now: now))
            }
            state = .shared(nextSync: started.advanced(by: configuration.syncInterval), failures: failures)
            return (.none, timerFired(now: now))
        case .shared, .local:
            preconditionFailure("syncFailed without a sync in flight")
        }
    }

    /// When the current outage began (kept across probes, for the "back after" message).
    private var outageStart: Instant?
}
