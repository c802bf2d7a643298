/// `GET /api/health/detailed`: every check, the verdict, and the configuration (secrets masked).
struct DetailedHealthReport: Encodable, Sendable {
    var status: OverallHealth
    var version: String
    var uptimeSeconds: Double
    var timestamp: String
    var checks: Checks
    var configuration: [String: String]

    struct Checks: Encodable, Sendable {
        var database: DatabaseCheck
        var migrations: MigrationsCheck
        var cache: CacheCheck
        var disk: ResourceCheck
        var memory: ResourceCheck
    }

    struct DatabaseCheck: Encodable, Sendable {
        var status: HealthCheckStatus
        /// How long `SELECT 1` took, in milliseconds (also when it failed).
        var latencyMs: Double
        /// Why it failed, in client-safe words.
        var error: String?

        enum CodingKeys: String, CodingKey {
            case status
            case latencyMs = "latency_ms"
            case error
        }
    }

    struct MigrationsCheck: Encodable, Sendable {
        var status: HealthCheckStatus
        var done: Bool
    }

    struct CacheCheck: Encodable, Sendable {
        var status: HealthCheckStatus
        var statistics: CacheStatistics
        /// Redis's `INFO`, when it answered.
        var server: RedisServerInfo?
    }

    struct ResourceCheck: Encodable, Sendable {
        var status: HealthCheckStatus
        /// The directory measured (disk only).
        var path: String?
        var usage: ResourceUsage?
        /// The thresholds applied, in percent used.
        var warningPercent: Double
        var criticalPercent: Double

        enum CodingKeys: String, CodingKey {
            case status, path, usage
            case warningPercent = "warning_percent"
            case criticalPercent = "critical_percent"
        }
    }

    enum CodingKeys: String, CodingKey {
        case status, version
        case uptimeSeconds = "uptime_seconds"
        case timestamp, checks, configuration
    }
}

/// `GET /api/health/ready` when ready (a 503 otherwise, naming what failed).
struct ReadinessReport: Encodable, Sendable {
    var status = "ready"
    var checks: [String: String]
}
