import Foundation

/// Runs the health checks against a worker's services: the I/O side of ``HealthAssessment``.
struct HealthChecks: Sendable {
    let services: BackendServices

    /// The database's answer to a ping and how long it took.
    struct Ping: Sendable {
        var latencyMs: Double
        /// `nil` when it answered; else why not, safe to show to clients.
        var failure: String?
    }

    func pingDatabase() async -> Ping {
        let clock = ContinuousClock()
        let start = clock.now
        var failure: String?
        do {
            try await services.store.ping()
        } catch let error as StoreError {
            failure = error.detail
        } catch {
            failure = "the database did not answer"
        }
        let elapsed = (clock.now - start).components
        let milliseconds = Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15
        return Ping(latencyMs: (milliseconds * 1000).rounded() / 1000, failure: failure.map(Redaction.redact))
    }

    /// Why the worker should not get traffic (empty when it should); the cache's state is
    /// reported in `checks` but never a failure.
    func readinessFailures() async -> (failures: [String], checks: [String: String]) {
        async let ping = pingDatabase()
        async let statistics = services.cache.statistics()
        let (databasePing, cache) = await (ping, statistics)
        let migrationsDone = services.startup.migrationsDone
        let failures = services.diagnostics.assessment.readinessFailures(
            databaseFailure: databasePing.failure, migrationsDone: migrationsDone)
        let checks = [
            "database": databasePing.failure == nil ? "ok" : "failed",
            "migrations": migrationsDone ? "ok" : "pending",
            "cache": cache.breakerState,
        ]
        return (failures, checks)
    }

    /// Every check, for `/api/health/detailed`.
    func detailed() async -> DetailedHealthReport {
        let diagnostics = services.diagnostics
        let assessment = diagnostics.assessment
        async let ping = pingDatabase()
        async let statistics = services.cache.statistics()
        async let serverInfo = services.cache.serverInfo()
        let (databasePing, cacheStatistics, info) = await (ping, statistics, serverInfo)

        let database = DetailedHealthReport.DatabaseCheck(
            status: databasePing.failure == nil ? .ok : .critical, latencyMs: databasePing.latencyMs,
            error: databasePing.failure)
        let migrationsDone = services.startup.migrationsDone
        let migrations = DetailedHealthReport.MigrationsCheck(
            status: migrationsDone ? .ok : .critical, done: migrationsDone)
        let cache = DetailedHealthReport.CacheCheck(
            status: assessment.cacheStatus(
                backend: cacheStatistics.backend, breakerState: cacheStatistics.breakerState,
                serverAnswered: info != nil),
            statistics: cacheStatistics, server: info)
        let diskUsage = diagnostics.resources.diskUsage(at: diagnostics.dataDirectory)
        let disk = DetailedHealthReport.ResourceCheck(
            status: assessment.status(usedPercent: diskUsage?.usedPercent), path: diagnostics.dataDirectory,
            usage: diskUsage, warningPercent: assessment.warningPercent, criticalPercent: assessment.criticalPercent)
        let memoryUsage = diagnostics.resources.memoryUsage()
        let memory = DetailedHealthReport.ResourceCheck(
            status: assessment.status(usedPercent: memoryUsage?.usedPercent), path: nil, usage: memoryUsage,
            warningPercent: assessment.warningPercent, criticalPercent: assessment.criticalPercent)

        let now = services.now()
        return DetailedHealthReport(
            status: assessment.overall(
                database: database.status, migrations: migrations.status,
                others: [cache.status, disk.status, memory.status]),
            version: diagnostics.version,
            uptimeSeconds: uptime(at: now),
            timestamp: Timestamp.string(from: now),
            checks: .init(database: database, migrations: migrations, cache: cache, disk: disk, memory: memory),
            configuration: diagnostics.configurationSummary.mapValues(Redaction.redact))
    }

    /// Seconds since the worker started (3 decimals).
    func uptime(at now: Date) -> Double {
        (max(0, now.timeIntervalSince(services.diagnostics.startedAt)) * 1000).rounded() / 1000
    }
}
