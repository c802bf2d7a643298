import Synchronization

/// What one shared zone's sync thread reports: its mode, failures and batch latencies.
final class SharedZoneStatus: Sendable {
    enum Mode { case shared, local }

    struct State {
        var mode: Mode = .shared
        var failures = 0
        var keys = 0
        var latency = LatencyHistogram()
    }

    /// Sync latencies in ``SharedZoneMetrics/buckets``.
    struct LatencyHistogram {
        var counts = [Int](repeating: 0, count: SharedZoneMetrics.buckets.count)
        var sum: Double = 0
        var count = 0

        mutating func observe(_ seconds: Double) {
            if let bucket = SharedZoneMetrics.buckets.firstIndex(where: { seconds <= $0 }) { counts[bucket] += 1 }
            sum += seconds
            count += 1
        }
    }

    let state = Mutex(State())

    func setMode(_ mode: Mode) { state.withLock { $0.mode = mode } }
    func recordFailure() { state.withLock { $0.failures += 1 } }

    func recordSync(seconds: Double, keys: Int) {
        state.withLock {
            $0.latency.observe(seconds)
            $0.keys += keys
        }
    }
}

/// The shared zones' metrics, by zone name (names come from the configuration, so the label is
/// bounded). Counters survive a reload that keeps the zone's name.
final class SharedZoneMetrics: Sendable {
    /// Upper bounds of the sync latency buckets, in seconds: a sync on loopback takes tens of
    /// microseconds, one across a data centre about a millisecond.
    static let buckets: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]

    private let zones = Mutex<[String: SharedZoneStatus]>([:])

    /// The status of `zone`, created on first use.
    func status(for zone: String) -> SharedZoneStatus {
        zones.withLock { zones in
            if let status = zones[zone] { return status }
            let status = SharedZoneStatus()
            zones[zone] = status
            return status
        }
    }

    /// Forgets a zone that is no longer shared.
    func remove(_ zone: String) {
        _ = zones.withLock { $0.removeValue(forKey: zone) }
    }

    func render(into out: inout PrometheusText) {
        let statuses = zones.withLock { zones in zones.map { (name: $0.key, status: $0.value) } }
        let states = statuses.map { entry in (entry.name, entry.status.state.withLock { state in state }) }.sorted { $0.0 < $1.0 }
        out.family(
            "edge_rate_limit_zone_shared", "gauge",
            "Whether each shared rate-limit zone is reconciled through Redis (1) or has fallen back to this edge's own limits (0).",
            states.map { ([("zone", $0.0)], $0.1.mode == .shared ? 1 : 0) })
        out.family(
            "edge_rate_limit_sync_failures_total", "counter",
            "Syncs of a shared rate-limit zone with Redis that failed (error or timeout).",
            states.map { ([("zone", $0.0)], Double($0.1.failures)) })
        out.family(
            "edge_rate_limit_sync_clients_total", "counter", "Client states sent to Redis by a shared rate-limit zone's syncs.",
            states.map { ([("zone", $0.0)], Double($0.1.keys)) })
        out.header("edge_rate_limit_sync_duration_seconds", "histogram", "Time of one sync (one pipelined batch) with Redis.")
        for (zone, state) in states {
            var cumulative = 0
            for (index, bound) in Self.buckets.enumerated() {
                cumulative += state.latency.counts[index]
                out.sample("edge_rate_limit_sync_duration_seconds_bucket", [("zone", zone), ("le", "\(bound)")], Double(cumulative))
            }
            out.sample("edge_rate_limit_sync_duration_seconds_bucket", [("zone", zone), ("le", "+Inf")], Double(state.latency.count))
            out.sample("edge_rate_limit_sync_duration_seconds_sum", [("zone", zone)], state.latency.sum)
            out.sample("edge_rate_limit_sync_duration_seconds_count", [("zone", zone)], Double(state.latency.count))
        }
    }
}
