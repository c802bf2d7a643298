import Limits
import Synchronization

/// The sync threads of the shared zones in force, kept across reloads the way ``ZoneRegistry``
/// keeps zones: a zone whose object and sharing settings did not change keeps its thread (and
/// its breaker's state); a changed one gets a new thread; a removed one's thread stops.
final class SharedZoneSyncers: Sendable {
    private let running = Mutex<[String: SharedZoneSync]>([:])
    private let metrics: SharedZoneMetrics
    private let logger: EdgeLogger

    init(metrics: SharedZoneMetrics, logger: EdgeLogger) {
        self.metrics = metrics
        self.logger = logger
    }

    /// Starts, keeps or stops threads so that exactly the shared zones of `zones` are synced.
    func update(_ zones: [String: (config: ZoneConfig, zone: RateLimitZone)]) {
        let (started, stopped) = running.withLock { running -> ([SharedZoneSync], [SharedZoneSync]) in
            var next: [String: SharedZoneSync] = [:]
            var started: [SharedZoneSync] = []
            for (name, entry) in zones {
                guard let shared = entry.config.shared else { continue }
                if let current = running[name], current.zone === entry.zone, current.config == shared {
                    next[name] = current
                    continue
                }
                let sync = SharedZoneSync(name: name, zone: entry.zone, config: shared, status: metrics.status(for: name), logger: logger)
                next[name] = sync
                started.append(sync)
            }
            let stopped = running.filter { next[$0.key] !== $0.value }.map(\.value)
            running = next
            return (started, stopped)
        }
        for sync in stopped {
            sync.stop()
            if !zones.keys.contains(sync.name) || zones[sync.name]?.config.shared == nil { metrics.remove(sync.name) }
        }
        for sync in started {
            logger.info(
                "rate-limit zone shared through Redis",
                [("limits.zone", sync.name), ("redis", "\(sync.config.redis)"), ("mode", sync.config.mode.rawValue),
                 ("sync_interval", ConfigValues.format(sync.config.syncInterval))])
            sync.start()
        }
    }

    /// Stops every thread (shutdown).
    func stopAll() {
        let all = running.withLock { running in
            defer { running = [:] }
            return Array(running.values)
        }
        for sync in all { sync.stop() }
    }
}
