import Dispatch
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
/// In batched mode the request path never waits for it: a request is decided by the zone's local
/// table whether this thread is syncing, waiting for a slow Redis, or has given up on Redis for
/// now. In strict mode each request waits in the zone's queue (at most the zone's `timeout`,
/// enforced by its connection) and this thread carries every queued request to Redis per round
/// trip; while the breaker is open the queue turns requests away to be decided locally at once.
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
        // A strict zone's requests wake the thread as they queue (a semaphore, not a sleep). The
        // queue serves from now on, so requests after start-up are never decided locally for
        // want of a thread that has not run yet.
        let wake = DispatchSemaphore(value: 0)
        if let queue = zone.strictQueue {
            queue.attach(owner: self, timeout: config.timeout) { wake.signal() }
            queue.setServing(true)
        }
        let thread = Thread { [self] in run(wake: wake) }
        thread.name = "edge-zone-sync-\(name)"
        thread.start()
    }

    /// Asks the thread to stop; it leaves within one sleep slice or one Redis timeout.
    func stop() {
        stopped.store(true, ordering: .releasing)
    }

    /// How often a batched zone refreshes the clients it tracks but admitted nothing since the
    /// last sync (the refresh interval `R` of docs/SCALING.md's bound): every sync carries the
    /// clients this edge admitted, but re-reading every idle, undrained client every 10 ms was
    /// about half of each batch for little gain.
    static let idleRefreshInterval: Duration = .milliseconds(50)

    private func run(wake: DispatchSemaphore) {
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
        let queue = zone.strictQueue
        defer { queue?.detach(owner: self) }
        let refreshInterval = max(config.syncInterval, Self.idleRefreshInterval)
        var lastRefresh = Self.now()
        var action = machine.timerFired(now: Self.now())
        var lastError = ""
        while !stopped.load(ordering: .acquiring) {
            switch action {
            case .wait(let until):
                if let queue, !queue.isEmpty, let sync = machine.requestsWaiting(now: Self.now()) {
                    action = sync
                    continue
                }
                let remaining = until.duration(since: Self.now())
                if remaining > .zero {
                    let slice = min(remaining, Self.sleepSlice)
                    if queue != nil {
                        _ = wake.wait(timeout: .now() + .nanoseconds(Int(slice.nanosecondsClamped)))
                    } else {
                        Thread.sleep(forTimeInterval: Double(slice.nanosecondsClamped) / 1e9)
                    }
                }
                if Self.now() >= until { action = machine.timerFired(now: Self.now()) }
            case .sync(let probe):
                let started = Self.now()
                let refreshing = started >= lastRefresh.advanced(by: refreshInterval)
                let batch = zone.cutSyncBatch(now: started, refreshingIdle: refreshing)
                if refreshing { lastRefresh = started }
                let requests = queue?.take(now: started) ?? []
                if batch.isEmpty && requests.isEmpty && !probe {
                    action = machine.syncSkipped(now: started)
                    continue
                }
                let transition: SharedZoneSyncStateMachine.Transition
                do {
                    if batch.isEmpty && requests.isEmpty {
                        try connection.ping()
                    } else {
                        let replies = try connection.roundTrip(zone: name, interval: zone.rate.interval) { encoder in
                            for entry in batch.entries { encoder.add(entry.key, .charge(entry.admitted)) }
                            for request in requests { encoder.add(request.key, .decide(tolerance: request.tolerance)) }
                        }
                        let answered = Self.now()
                        if !batch.isEmpty {
                            zone.merge(batch, replies: replies[..<batch.entries.count].map { .microseconds($0) }, now: answered)
                        }
                        for (request, reply) in zip(requests, replies[batch.entries.count...]) {
                            request.waiter(reply < 0 ? .refused(ahead: .microseconds(-reply)) : .admitted(ahead: .microseconds(reply)))
                        }
                    }
                    let ended = Self.now()
                    status.recordSync(
                        seconds: Double(ended.duration(since: started).nanosecondsClamped) / 1e9,
                        keys: batch.entries.count + requests.count)
                    (transition, action) = machine.syncSucceeded(now: ended)
                } catch {
                    lastError = "\(error)"
                    for request in requests { request.waiter(.unavailable) }
                    status.recordFailure()
                    (transition, action) = machine.syncFailed(now: Self.now())
                }
                switch transition {
                case .none:
                    break
                case .fellBackToLocal:
                    status.setMode(.local)
                    queue?.setServing(false)
                    logger.warning(
                        "shared rate-limit zone fell back to local limits: Redis does not answer; requests are decided by this edge alone until it does",
                        [("limits.zone", name), ("redis", "\(config.redis)"), ("error", lastError)])
                case .resumedShared(let outage):
                    status.setMode(.shared)
                    queue?.setServing(true)
                    logger.info(
                        "shared rate-limit zone is shared again",
                        [("limits.zone", name), ("redis", "\(config.redis)"), ("outage_seconds", "\(outage.components.seconds)")])
                }
            }
        }
        connection.disconnect()
    }
}
