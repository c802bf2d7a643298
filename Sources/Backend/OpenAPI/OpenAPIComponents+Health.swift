private typealias S = OpenAPISchema

/// The health payloads (``HealthRoutes``, ``DetailedHealthReport``, ``CacheStatistics``).
extension OpenAPIComponents {
    private static let checkStatus = S.constant(["ok", "warning", "critical", "disabled", "unknown"])

    /// A `{"status": "<value>"}` answer.
    private static func status(_ value: String, _ description: String) -> OpenAPIJSON {
        S.object(["status": S.constant([value])], required: ["status"], description)
    }

    private static let resourceCheck = S.object(
        [
            "status": checkStatus,
            "path": S.string("The directory measured (disk only)."),
            "usage": S.object(
                [
                    "total_bytes": S.integer(minimum: 0),
                    "available_bytes": S.integer(minimum: 0),
                    "used_bytes": S.integer(minimum: 0),
                    "used_percent": S.number(0...100),
                ],
                required: ["total_bytes", "available_bytes", "used_bytes", "used_percent"]),
            "warning_percent": S.number(0...100),
            "critical_percent": S.number(0...100),
        ],
        required: ["status", "warning_percent", "critical_percent"])

    static let health: [String: OpenAPIJSON] = [
        "HealthSummary": S.object(
            [
                "status": S.constant(["healthy"]),
                "version": S.string(),
                "uptime_seconds": S.number(minimum: 0),
                "timestamp": S.timestamp,
            ],
            required: ["status", "version", "uptime_seconds", "timestamp"],
            "The process serves."),
        "Liveness": status("alive", "The process serves."),
        "Startup": status("started", "Schema migrations are applied."),
        "Readiness": S.object(
            [
                "status": S.constant(["ready"]),
                "checks": S.map(S.string(), "`database`, `migrations` and `cache` (the breaker's state)."),
            ],
            required: ["status", "checks"],
            "The database answers, migrations are applied and the cache's breaker is not open."),
        "CacheCleared": status("cleared", "Every cached result is retired, on every worker."),
        "CacheStatistics": S.object(
            [
                "backend": S.string("`redis`, or `none` without a cache."),
                "hits": S.integer(minimum: 0),
                "misses": S.integer(minimum: 0),
                "bypassed": S.integer(minimum: 0),
                "errors": S.integer(minimum: 0),
                "stores": S.integer(minimum: 0),
                "invalidations": S.integer(minimum: 0),
                "pending_invalidations": S.integer(minimum: 0),
                "breaker_state": S.string("`closed`, `open` or `half_open`."),
                "breaker_openings": S.integer(minimum: 0),
                "connections": S.integer(minimum: 0),
                "hit_rate": S.number(0...1),
            ],
            required: [
                "backend", "hits", "misses", "bypassed", "errors", "stores", "invalidations", "pending_invalidations",
                "breaker_state", "breaker_openings", "connections", "hit_rate",
            ],
            "This worker's cache counters and circuit-breaker state."),
        "DetailedHealth": S.object(
            [
                "status": S.constant(
                    ["healthy", "degraded", "unhealthy"],
                    "Unhealthy when the database or its schema fails, degraded when another check warns."),
                "version": S.string(),
                "uptime_seconds": S.number(minimum: 0),
                "timestamp": S.timestamp,
                "checks": S.object(
                    [
                        "database": S.object(
                            [
                                "status": checkStatus, "latency_ms": S.number(minimum: 0),
                                "error": S.string("Why it failed."),
                            ],
                            required: ["status", "latency_ms"]),
                        "migrations": S.object(
                            ["status": checkStatus, "done": S.boolean()], required: ["status", "done"]),
                        "cache": S.object(
                            [
                                "status": checkStatus,
                                "statistics": S.ref("CacheStatistics"),
                                "server": S.object(
                                    [
                                        "version": S.string(),
                                        "used_memory": S.integer(minimum: 0),
                                        "used_memory_human": S.string(),
                                        "maxmemory": S.integer(minimum: 0),
                                        "connected_clients": S.integer(minimum: 0),
                                        "uptime_in_seconds": S.integer(minimum: 0),
                                        "role": S.string(),
                                    ],
                                    "Redis's `INFO`, when it answered."),
                            ],
                            required: ["status", "statistics"]),
                        "disk": resourceCheck,
                        "memory": resourceCheck,
                    ],
                    required: ["database", "migrations", "cache", "disk", "memory"]),
                "configuration": S.map(S.string(), "The configuration, secrets masked."),
            ],
            required: ["status", "version", "uptime_seconds", "timestamp", "checks", "configuration"],
            "Every check and the verdict; answered with 200 whatever the verdict."),
    ]
}
