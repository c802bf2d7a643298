import Foundation
import Limits
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The sync thread of one shared zone: it performs what the zone's
/// ``SharedZoneSyncStateMachine`` decides (cut a batch, charge it to Redis, merge the answer,
/// wait), and reports mode changes to the log and the metrics.
///
/// The request path never waits for it: a request is decided by the zone's local table whether
/// this thread is syncing, waiting for a slow Redis, or has given up on Redis for now.
final class SharedZoneSync: Sendable {
    let name: String
    let zone: RateLimitZone
    let config: SharedZoneConfig
    private let status: SharedZoneStatus
    private let logger: EdgeLogger
    private let stopped = Atomic<Bool>(false)
    /// Set when the thread has left its loop (for shutdown and tests).
    let finished = Atomic<Bool>(false)

    /// The longest single sleep, so a stop is noticed soon even during a long retry interval.
    private static let sleepSlice: Duration = .milliseconds(20)

    init(name: String, zone: RateLimitZone, config: SharedZoneConfig, status: SharedZoneStatus, logger: EdgeLogger) {
        self.name = name
        self.zone = zone
        self.config = config
        self.status = status
        self.logger = logger
    }

    /// The clock the request path decides with (the edge's one clock), so merged arrival times
    /// and local ones are on one time line.
    static func now() -> Instant { MonotonicClock().now() }

    func start() {
        status.setMode(.shared)
        let thread = Thread { [self] in run() }
        thread.name = "edge-zone-sync-\(name)"
        thread.start()
    }

    /// Asks the thread to stop; it leaves within one sleep slice or one Redis timeout.
    func stop() {
        stopped.store(true, ordering: .releasing)
    }

    private func run() {
        defer { finished.store(true, ordering: .releasing) }
        // A write to a Redis that went away raises SIGPIPE, which would end the process where
        // nobody ignores it (the binary does; a test runner may not): blocked on this thread
        // only, the write fails with EPIPE instead, which is a failed sync like any other.
        var pipe = sigset_t()
        sigemptyset(&pipe)
        sigaddset(&pipe, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipe, nil)
        let connection = SharedZoneRedisConnection(address: config.redis, timeout: config.timeout)
        var machine = SharedZoneSyncStateMachine(
            configuration: .init(
                syncInterval: config.syncInterval, failureThreshold: config.failures, retryInterval: config.retryInterval),
            now: Self.now())
        var action = machine.timerFired(now: Self.now())
        var lastError = ""
        while !stopped.load(ordering: .acquiring) {
            switch action {
            case .wait(let until):
                let remaining = until.duration(since: Self.now())
                if remaining > .zero { Thread.sleep(forTimeInterval: Double(min(remaining, Self.sleepSlice).nanosecondsClamped) / 1e9) }
                if Self.now() >= until { action = machine.timerFired(now: Self.now()) }
            case .sync(let probe):
                let started = Self.now()
                let batch = zone.cutSyncBatch(now: started)
                if batch.isEmpty && !probe {
                    action = machine.syncSkipped(now: started)
                    continue
                }
                let transition: SharedZoneSyncStateMachine.Transition
                do {
                    if batch.isEmpty {
                        try connection.ping()
                    } else {
                        let replies = try connection.charge(batch, zone: name, interval: zone.rate.interval)
                        zone.merge(batch, replies: replies, now: Self.now())
                    }
                    let ended = Self.now()
                    status.recordSync(seconds: Double(ended.duration(since: started).nanosecondsClamped) / 1e9, keys: batch.entries.count)
                    (transition, action) = machine.syncSucceeded(now: ended)
                } catch {
                    lastError = "\(error)"
                    status.recordFailure()
                    (transition, action) = machine.syncFailed(now: Self.now())
                }
                switch transition {
                case .none:
                    break
                case .fellBackToLocal:
                    status.setMode(.local)
                    logger.warning(
                        "shared rate-limit zone fell back to local limits: Redis does not answer; requests are decided by this edge alone until it does",
                        [("limits.zone", name), ("redis", "\(config.redis)"), ("error", lastError)])
                case .resumedShared(let outage):
                    status.setMode(.shared)
                    logger.info(
                        "shared rate-limit zone is shared again",
                        [("limits.zone", name), ("redis", "\(config.redis)"), ("outage_seconds", "\(outage.components.seconds)")])
                }
            }
        }
        connection.disconnect()
    }
}
