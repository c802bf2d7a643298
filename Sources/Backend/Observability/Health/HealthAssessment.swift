/// How one health check came out, as `/api/health/detailed` reports it.
public enum HealthCheckStatus: String, Sendable, Hashable, Codable {
    /// Working, and below every threshold.
    case ok
    /// Working, but worth a look (≥ 80 % used, the cache's breaker probing).
    case warning
    /// Failing, or nearly exhausted (≥ 90 % used).
    case critical
    /// Not configured (no cache).
    case disabled
    /// Could not be measured (no `/proc/meminfo`, no such directory).
    case unknown
}

/// The service as a whole, from its checks.
public enum OverallHealth: String, Sendable, Hashable, Codable {
    case healthy
    /// Serving, with something worth attention (the cache, disk or memory).
    case degraded
    /// Not able to serve the API (the database or its schema).
    case unhealthy
}

/// The pure rules behind the health endpoints: thresholds, and how checks combine. No I/O, so
/// every rule is tested directly.
public struct HealthAssessment: Sendable, Hashable {
    /// Usage at or above this is a warning (80 %).
    public var warningPercent: Double
    /// Usage at or above this is critical (90 %).
    public var criticalPercent: Double

    public init(warningPercent: Double = 80, criticalPercent: Double = 90) {
        self.warningPercent = warningPercent
        self.criticalPercent = criticalPercent
    }

    /// The status of a resource (disk, memory) from how much of it is used.
    /// - Parameter usedPercent: 0-100, or `nil` when it could not be measured.
    public func status(usedPercent: Double?) -> HealthCheckStatus {
        guard let usedPercent, usedPercent.isFinite else { return .unknown }
        if usedPercent >= criticalPercent { return .critical }
        if usedPercent >= warningPercent { return .warning }
        return .ok
    }

    /// The cache's status.
    /// - Parameters:
    ///   - backend: ``CacheStatistics/backend`` (`none` without a cache).
    ///   - breakerState: ``CacheStatistics/breakerState``.
    ///   - serverAnswered: whether Redis answered `INFO` just now.
    public func cacheStatus(backend: String, breakerState: String, serverAnswered: Bool) -> HealthCheckStatus {
        guard backend != "none" else { return .disabled }
        switch breakerState {
        case "open": return .critical
        case "half_open": return .warning
        default: return serverAnswered ? .ok : .warning
        }
    }

    /// The service's health: unhealthy when the database or its schema fails (the API cannot
    /// answer), degraded when any other check warns or fails, else healthy. Checks that are
    /// disabled or could not be measured do not count against it.
    /// - Parameters:
    ///   - database: the database check.
    ///   - migrations: the schema check.
    ///   - others: cache, disk, memory.
    public func overall(
        database: HealthCheckStatus, migrations: HealthCheckStatus, others: [HealthCheckStatus]
    ) -> OverallHealth {
        if database != .ok || migrations != .ok { return .unhealthy }
        if others.contains(where: { $0 == .warning || $0 == .critical }) { return .degraded }
        return .healthy
    }

    /// Why the worker is not ready for traffic (empty when it is): the database does not answer
    /// (its breaker is open, or the ping failed) or migrations are pending. The cache is not a
    /// reason: it is optional by design (a failing cache is a miss, the breaker bypasses it), so a
    /// Redis outage must not take every worker out of the edge's pool; it shows in
    /// `/api/health/detailed` and the `cache_breaker_state` metric instead.
    /// - Parameters:
    ///   - databaseFailure: the database ping's client-safe error, `nil` when it answered.
    ///   - migrationsDone: ``StartupState/migrationsDone``.
    public func readinessFailures(databaseFailure: String?, migrationsDone: Bool) -> [String] {
        var failures: [String] = []
        if let databaseFailure { failures.append("database: \(databaseFailure)") }
        if !migrationsDone { failures.append("migrations: not applied yet") }
        return failures
    }
}
