private typealias S = OpenAPISchema

/// Health probes and the cache (``HealthRoutes``). None of them fails for a down database
/// with `DATABASE_ERROR`: readiness reports it as its own 503, the detailed report as a check.
extension OpenAPIPaths {
    static let health: [OpenAPIOperation] = [
        .init(
            .get, "/api/health", id: "getHealth", "Status, version and uptime", tag: "Health",
            success: .json(S.ref("HealthSummary"), "The process serves."), usesStore: false),
        .init(
            .get, "/api/health/live", id: "getLiveness", "Liveness probe", tag: "Health",
            success: .json(S.ref("Liveness"), "The process serves."), usesStore: false),
        .init(
            .get, "/api/health/ready", id: "getReadiness", "Readiness probe", tag: "Health",
            success: .json(S.ref("Readiness"), "Ready for traffic."),
            errors: [
                .unavailable(
                    "not ready: the database does not answer (or its breaker is open) or migrations are pending "
                        + "(the message names each); the cache never makes a worker not ready")
            ],
            usesStore: false),
        .init(
            .get, "/api/health/startup", id: "getStartup", "Startup probe", tag: "Health",
            success: .json(S.ref("Startup"), "Migrations are applied."),
            errors: [.unavailable("schema migrations are not applied yet")], usesStore: false),
        .init(
            .get, "/api/health/detailed", id: "getDetailedHealth", "Every health check, for operators", tag: "Health",
            success: .json(S.ref("DetailedHealth"), "The report, whatever the verdict."), usesStore: false),
        .init(
            .get, "/api/health/cache/stats", id: "getCacheStatistics", "The cache's counters", tag: "Health",
            success: .json(S.ref("CacheStatistics"), "This worker's counters."), usesStore: false),
        .init(
            .post, "/api/health/cache/clear", id: "clearCache", "Retire every cached result", tag: "Health",
            success: .json(S.ref("CacheCleared"), "Cleared on every worker."), usesStore: false),
    ]
}
