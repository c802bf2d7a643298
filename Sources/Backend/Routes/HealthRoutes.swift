import Foundation
import Hummingbird

/// `/api/health...`: probes for orchestrators and load balancers, a detailed report for
/// operators, and the cache's statistics and reset (`rack-api.md` §3 Health).
///
/// - `GET /health`: status, version, uptime. Always 200 while the process serves.
/// - `GET /health/live`: 200 while the process serves (liveness: restart it otherwise).
/// - `GET /health/ready`: 200 when the database answers and migrations are applied, whatever the
///   cache's state (it is optional); else 503 naming each failed check (readiness: send no traffic).
/// - `GET /health/startup`: 200 once migrations are applied, else 503.
/// - `GET /health/detailed`: database latency, migrations, cache (statistics, Redis `INFO`),
///   disk and memory usage, each with a status; `healthy`, `degraded` or `unhealthy` overall
///   (``HealthAssessment``); the configuration with secrets masked. 200 whatever the verdict:
///   the report is the answer.
/// - `GET /health/cache/stats`: the cache's counters and breaker state.
/// - `POST /health/cache/clear`: retires every cached result on every worker. A write, so it
///   needs a token when tokens are configured.
struct HealthRoutes {
    let services: BackendServices

    struct Summary: Encodable {
        var status = "healthy"
        var version: String
        var uptimeSeconds: Double
        var timestamp: String

        enum CodingKeys: String, CodingKey {
            case status, version
            case uptimeSeconds = "uptime_seconds"
            case timestamp
        }
    }

    func register(on api: RouterGroup<BackendRequestContext>) {
        let services = self.services
        let checks = HealthChecks(services: services)

        api.get("health") { _, _ in
            let now = services.now()
            return try APIResponse.json(
                Summary(
                    version: services.diagnostics.version, uptimeSeconds: checks.uptime(at: now),
                    timestamp: Timestamp.string(from: now)))
        }
        api.get("health/live") { _, _ in
            try APIResponse.json(["status": "alive"])
        }
        api.get("health/ready") { _, _ in
            let (failures, results) = await checks.readinessFailures()
            guard failures.isEmpty else {
                throw APIError.unavailable("Not ready: " + failures.joined(separator: "; "))
            }
            return try APIResponse.json(ReadinessReport(checks: results))
        }
        api.get("health/startup") { _, _ in
            guard services.startup.migrationsDone else {
                throw APIError.unavailable("Starting: schema migrations are not applied yet")
            }
            return try APIResponse.json(["status": "started"])
        }
        api.get("health/detailed") { _, _ in
            try APIResponse.json(await checks.detailed())
        }
        api.get("health/cache/stats") { _, _ in
            try APIResponse.json(await services.cache.statistics())
        }
        api.post("health/cache/clear") { _, _ in
            await services.cache.invalidate([.all])
            return try APIResponse.json(["status": "cleared"])
        }
    }
}
