import Backend
import Foundation
import Testing

@Suite("Health: endpoints")
struct HealthRouteTests {
    @Test(arguments: TestDatabases.kinds)
    func probesAnswerWhileTheServiceWorks(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, _ in
            let health = try await api.get("/api/health")
            #expect(health.status == .ok)
            #expect(health.object["status"] as? String == "healthy")
            #expect(health.object["version"] as? String == BackendVersion.current)
            #expect((health.object["uptime_seconds"] as? Double).map { $0 >= 0 } == true)

            #expect(try await api.get("/api/health/live").object["status"] as? String == "alive")
            #expect(try await api.get("/api/health/startup").object["status"] as? String == "started")

            let ready = try await api.get("/api/health/ready")
            #expect(ready.status == .ok)
            #expect(ready.object["status"] as? String == "ready")
            #expect(
                (ready.object["checks"] as? [String: String])
                    == ["database": "ok", "migrations": "ok", "cache": "disabled"])
        }
    }

    @Test func readinessIs503WhenTheDatabaseIsClosed() async throws {
        let closed = try await Self.closedDatabase()
        try await APITest.withAPI(configure: { $0.store = SQLRackStore(database: closed) }) { api, _ in
            let ready = try await api.get("/api/health/ready")
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.envelope["code"] as? String == "SERVICE_UNAVAILABLE")
            let message = try #require(ready.envelope["message"] as? String)
            #expect(message.contains("database"))
            #expect(!message.contains("migrations"))
            // Liveness does not depend on the database.
            #expect(try await api.get("/api/health/live").status == .ok)
        }
    }

    @Test func readinessStaysReadyWhileTheCacheBreakerIsOpen() async throws {
        let cache = FixedStatisticsCache(CacheStatistics(backend: "redis", breakerState: "open"))
        try await APITest.withAPI(cache: cache) { api, _ in
            let ready = try await api.get("/api/health/ready")
            #expect(ready.status == .ok)
            #expect((ready.object["checks"] as? [String: String])?["cache"] == "open")

            let detailed = try await api.get("/api/health/detailed")
            let checks = try #require(detailed.object["checks"] as? [String: Any])
            #expect((checks["cache"] as? [String: Any])?["status"] as? String == "critical")
            #expect(detailed.object["status"] as? String == "degraded")
        }
    }

    @Test func startupAndReadinessAre503BeforeMigrations() async throws {
        let startup = StartupState(migrationsDone: false)
        try await APITest.withAPI(configure: { $0.startup = startup }) { api, _ in
            let before = try await api.get("/api/health/startup")
            #expect(before.status == .serviceUnavailable)
            #expect(before.envelope["code"] as? String == "SERVICE_UNAVAILABLE")
            let ready = try await api.get("/api/health/ready")
            #expect(ready.status == .serviceUnavailable)
            #expect((ready.envelope["message"] as? String)?.contains("migrations") == true)

            startup.markMigrationsDone()
            #expect(try await api.get("/api/health/startup").status == .ok)
            #expect(try await api.get("/api/health/ready").status == .ok)
        }
    }

    @Test func detailedReportsEveryCheckAndAHealthyVerdict() async throws {
        let info = RedisServerInfo(parsing: "redis_version:7.0.15\r\nused_memory:1024\r\nconnected_clients:3\r\n")
        let cache = FixedStatisticsCache(CacheStatistics(backend: "redis", hits: 4, breakerState: "closed"), info: info)
        try await APITest.withAPI(
            cache: cache,
            configure: {
                $0.diagnostics.resources = FixedResources(diskPercent: 50, memoryPercent: 10)
                $0.diagnostics.configurationSummary = ["LOG_LEVEL": "info"]
            }
        ) { api, _ in
            let response = try await api.get("/api/health/detailed")
            #expect(response.status == .ok)
            let body = response.object
            #expect(body["status"] as? String == "healthy")
            #expect(body["version"] as? String == BackendVersion.current)
            #expect((body["configuration"] as? [String: String]) == ["LOG_LEVEL": "info"])
            let checks = try #require(body["checks"] as? [String: [String: Any]])
            #expect(Set(checks.keys) == ["database", "migrations", "cache", "disk", "memory"])
            #expect(checks["database"]?["status"] as? String == "ok")
            #expect((checks["database"]?["latency_ms"] as? Double).map { $0 >= 0 } == true)
            #expect(checks["migrations"]?["status"] as? String == "ok")
            #expect(checks["cache"]?["status"] as? String == "ok")
            #expect((checks["cache"]?["statistics"] as? [String: Any])?["hits"] as? Int == 4)
            #expect((checks["cache"]?["server"] as? [String: Any])?["version"] as? String == "7.0.15")
            #expect(checks["disk"]?["status"] as? String == "ok")
            #expect((checks["disk"]?["usage"] as? [String: Any])?["used_percent"] as? Double == 50)
            #expect(checks["disk"]?["warning_percent"] as? Double == 80)
            #expect(checks["memory"]?["status"] as? String == "ok")
        }
    }

    @Test func detailedIsDegradedWhenDiskOrMemoryCrossesAThreshold() async throws {
        try await APITest.withAPI(configure: {
            $0.diagnostics.resources = FixedResources(diskPercent: 85, memoryPercent: 95)
        }) { api, _ in
            let body = try await api.get("/api/health/detailed").object
            let checks = try #require(body["checks"] as? [String: [String: Any]])
            #expect(checks["disk"]?["status"] as? String == "warning")
            #expect(checks["memory"]?["status"] as? String == "critical")
            #expect(checks["cache"]?["status"] as? String == "disabled")
            #expect(body["status"] as? String == "degraded")
        }
    }

    @Test func detailedIsUnhealthyWhenTheDatabaseIsClosed() async throws {
        let closed = try await Self.closedDatabase()
        try await APITest.withAPI(configure: {
            $0.store = SQLRackStore(database: closed)
            $0.diagnostics.resources = FixedResources(diskPercent: nil, memoryPercent: nil)
        }) { api, _ in
            let response = try await api.get("/api/health/detailed")
            #expect(response.status == .ok)
            let checks = try #require(response.object["checks"] as? [String: [String: Any]])
            #expect(checks["database"]?["status"] as? String == "critical")
            #expect(checks["database"]?["error"] as? String == "The database is closed")
            #expect(checks["disk"]?["status"] as? String == "unknown")
            #expect(response.object["status"] as? String == "unhealthy")
        }
    }

    @Test func cacheStatsShowTheCacheCounters() async throws {
        let cache = FixedStatisticsCache(CacheStatistics(backend: "redis", hits: 3, misses: 1, breakerState: "closed"))
        try await APITest.withAPI(cache: cache) { api, _ in
            let stats = try await api.get("/api/health/cache/stats")
            #expect(stats.status == .ok)
            let decoded = try stats.decode(CacheStatistics.self)
            #expect(decoded.hits == 3 && decoded.misses == 1 && decoded.breakerState == "closed")
            #expect(stats.object["hit_rate"] as? Double == 0.75)
        }
    }

    @Test func cacheClearInvalidatesEverythingAndNeedsATokenWhenConfigured() async throws {
        let cache = FixedStatisticsCache(CacheStatistics(backend: "redis", breakerState: "closed"))
        try await APITest.withAPI(tokens: ["s3cret-token"], cache: cache) { api, _ in
            let refused = try await api.post("/api/health/cache/clear")
            #expect(refused.status == .unauthorized)
            #expect(cache.invalidated.isEmpty)

            let cleared = try await api.authorized("s3cret-token").post("/api/health/cache/clear")
            #expect(cleared.status == .ok)
            #expect(cleared.object["status"] as? String == "cleared")
            #expect(cache.invalidated == [[.all]])
        }
    }

    /// A SQLite database that has been opened and closed: every statement fails with
    /// ``StoreError/unavailable``.
    static func closedDatabase() async throws -> SQLiteDatabase {
        try await TestDatabases.withTemporaryDirectory { directory in
            let database = try await SQLiteDatabase.open(.dataDirectory(directory), logger: TestDatabases.quietLogger)
            await database.close()
            return database
        }
    }
}
