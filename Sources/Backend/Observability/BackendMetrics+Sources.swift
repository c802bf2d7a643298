import Prometheus

/// The series read from the cache and the database rather than recorded per request.
///
/// The cache keeps cumulative counts (``CacheStatistics``); each refresh adds what they grew by
/// since the last one to Prometheus counters, so the counters stay monotonic and `rate()` works.
extension BackendMetrics {
    private static let cacheCounters: [(name: String, help: String, value: @Sendable (CacheStatistics) -> Int)] = [
        ("cache_hits", "Cache lookups answered from Redis", { $0.hits }),
        ("cache_misses", "Cache lookups that found nothing (bypassed ones included)", { $0.misses }),
        (
            "cache_bypassed", "Cache lookups answered without asking Redis (breaker open, invalidations pending)",
            { $0.bypassed }
        ),
        ("cache_errors", "Failed Redis operations and unreadable cache entries", { $0.errors }),
        ("cache_stores", "Results stored in the cache", { $0.stores }),
        ("cache_invalidations", "Cache invalidations requested by writes", { $0.invalidations }),
        ("cache_breaker_openings", "Times the cache's circuit breaker opened", { $0.breakerOpenings }),
    ]

    /// The breaker states `cache_breaker_state` reports, one series each (1 for the current one).
    static let breakerStates = ["closed", "open", "half_open", "disabled"]

    /// Series whose values never change (the pool's configured bounds).
    func registerStaticSeries() {
        guard let postgres else { return }
        let pool = postgres.configuration.pool
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                metricName: "db_pool_min_connections", unitName: "",
                helpText: "PostgreSQL connections the pool keeps open (DB_POOL_MIN)")
        ).set(Double(pool.minimumConnections))
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                metricName: "db_pool_max_connections", unitName: "",
                helpText: "PostgreSQL connections the pool may open (DB_POOL_MAX)")
        ).set(Double(pool.maximumConnections))
    }

    /// Brings the cache and database series up to date.
    /// - Parameter cache: the worker's result cache.
    public func refresh(cache: any ResultCache) async {
        let statistics = await cache.statistics()
        for counter in Self.cacheCounters {
            mirror(counter.name, help: counter.help, cumulative: counter.value(statistics))
        }
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                metricName: "cache_pending_invalidations", unitName: "",
                helpText: "Cache invalidations waiting for Redis to answer again")
        ).set(Double(statistics.pendingInvalidations))
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                metricName: "cache_connections", unitName: "", helpText: "Open Redis connections")
        ).set(Double(statistics.connections))
        for state in Self.breakerStates {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    metricName: "cache_breaker_state", unitName: "",
                    helpText: "The cache circuit breaker's state: 1 for the current one"),
                labels: [("state", state)]
            ).set(statistics.breakerState == state ? 1.0 : 0.0)
        }
        if let postgres {
            let counters = postgres.counters
            mirror(
                "db_read_retries", help: "Reads retried on another connection after theirs broke",
                cumulative: counters.retriedReads)
            mirror(
                "db_lease_timeouts", help: "Database operations that gave up waiting for a pooled connection",
                cumulative: counters.leaseTimeouts)
            mirror(
                "db_pool_replacements", help: "PostgreSQL pools replaced by a fresh one after an outage",
                cumulative: counters.poolReplacements)
        }
        if let breaker = databaseBreaker?.breaker {
            mirror(
                "db_breaker_openings", help: "Times the database's circuit breaker opened",
                cumulative: breaker.timesOpened)
            let mode = breaker.mode.rawValue
            for state in ["closed", "open", "half_open"] {
                registry.makeGauge(
                    descriptor: MetricNameDescriptor(
                        metricName: "db_breaker_state", unitName: "",
                        helpText: "The database circuit breaker's state: 1 for the current one"),
                    labels: [("state", state)]
                ).set(mode == state ? 1.0 : 0.0)
            }
        }
    }

    /// Adds to counter `name` what a cumulative count grew by since it was last seen. Under one
    /// lock, so concurrent refreshes (two scrapes at once) never count the same growth twice.
    private func mirror(_ name: String, help: String, cumulative: Int) {
        let counter = registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: name, unitName: "total", helpText: help))
        mirroredCounts.withLock { seen in
            let growth = cumulative - seen[name, default: 0]
            if growth > 0 {
                counter.increment(by: Int64(growth))
                seen[name] = cumulative
            }
        }
    }
}
