import Backend
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@Suite("Health: the runtime a worker starts")
struct HealthRuntimeTests {
    @Test(arguments: TestDatabases.kinds)
    func startMigratesAndTheRouterServesTheAPIHealthAndMetrics(kind: StoreKind) async throws {
        try await Self.withEnvironment(kind) { environment, directory in
            let configuration = try BackendConfiguration.load(environment: environment, file: nil)
            let runtime = try await BackendRuntime.start(configuration, logger: TestDatabases.quietLogger)
            #expect(runtime.services.startup.migrationsDone)
            #expect(FileManager.default.fileExists(atPath: configuration.uploadsDirectory))
            #expect(runtime.services.diagnostics.configurationSummary == configuration.summary)
            do {
                try await Application(router: runtime.makeRouter()).test(.router) { client in
                    let api = APIClient(client: client)
                    #expect(try await api.get("/api/health/startup").status == .ok)
                    #expect(try await api.get("/api/health/ready").status == .ok)
                    let created = try await api.post("/api/racks", ["name": "Runtime", "total_height_u": 12])
                    #expect(created.status == .created)
                    let metrics = try await api.get("/metrics")
                    #expect(
                        metrics.text.contains(#"http_requests_total{method="POST",route="/api/racks",status="201"} 1"#))
                    #expect(runtime.metrics.exposition().contains(#"route="/api/health/ready""#))
                }
            } catch {
                await runtime.shutdown()
                throw error
            }
            await runtime.shutdown()
        }
    }

    @Test(.enabled(if: (try? RedisServerProcess.executable()) != nil || RedisTestServer.isCI))
    func readinessStaysReadyWhileRedisIsDownAndDetailedHealthShowsIt() async throws {
        let redis = try await RedisServerProcess()
        defer { redis.kill() }
        let redisProcess = try #require(redis.process)
        try await Self.withEnvironment(.sqlite) { environment, _ in
            var environment = environment
            environment["REDIS_URL"] = redis.url
            environment["REDIS_TIMEOUT"] = "200ms"
            environment["CACHE_BREAKER_THRESHOLD"] = "1"
            environment["CACHE_BREAKER_COOLDOWN"] = "1h"
            let configuration = try BackendConfiguration.load(environment: environment, file: nil)
            let runtime = try await BackendRuntime.start(configuration, logger: TestDatabases.quietLogger)
            do {
                try await Application(router: runtime.makeRouter()).test(.router) { client in
                    let api = APIClient(client: client)
                    let created = try await api.post("/api/racks", ["name": "Cached", "total_height_u": 12])
                    let id = try #require(created.object["id"] as? Int)
                    #expect(try await api.get("/api/racks/\(id)/layout").status == .ok)

                    redisProcess.signal(SIGKILL)  // by PID; the deferred kill() reaps it
                    // Layout reads go on (from the database) while the cache's breaker opens.
                    let opened = try await RedisTestServer.eventually(timeout: .seconds(15)) {
                        #expect(try await api.get("/api/racks/\(id)/layout").status == .ok)
                        let stats = try await api.get("/api/health/cache/stats")
                        return stats.object["breaker_state"] as? String == "open"
                    }
                    #expect(opened)

                    let ready = try await api.get("/api/health/ready")
                    #expect(ready.status == .ok, "\(ready.text)")
                    #expect((ready.object["checks"] as? [String: String])?["cache"] == "open")
                    let detailed = try await api.get("/api/health/detailed")
                    let checks = detailed.object["checks"] as? [String: Any]
                    #expect((checks?["cache"] as? [String: Any])?["status"] as? String == "critical")
                    #expect(detailed.object["status"] as? String == "degraded")
                    let metrics = try await api.get("/metrics")
                    #expect(metrics.text.contains(#"cache_breaker_state{state="open"} 1"#))
                }
            } catch {
                await runtime.shutdown()
                throw error
            }
            await runtime.shutdown()
        }
    }

    @Test func runClosesTheDatabaseWhenCancelled() async throws {
        try await Self.withEnvironment(.sqlite) { environment, _ in
            let configuration = try BackendConfiguration.load(environment: environment, file: nil)
            let runtime = try await BackendRuntime.start(configuration, logger: TestDatabases.quietLogger)
            try await runtime.services.store.ping()
            let running = Task { try await runtime.run() }
            running.cancel()
            try await running.value
            await #expect(throws: StoreError.unavailable) { try await runtime.services.store.ping() }
        }
    }

    @Test func startFailsWhenTheDatabaseCannotBeOpened() async throws {
        try await TestDatabases.withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // DATA_DIR is a regular file: no database can be created in it.
            let file = directory + "/not-a-directory"
            _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
            let configuration = try BackendConfiguration.load(
                environment: ["DATA_DIR": file, "UPLOADS_DIR": directory + "/uploads"], file: nil)
            await #expect(throws: StoreError.unavailable) {
                _ = try await BackendRuntime.start(configuration, logger: TestDatabases.quietLogger)
            }
        }
    }

    /// The environment for a runtime over a fresh database of `kind` in a temporary directory.
    static func withEnvironment(
        _ kind: StoreKind, _ body: ([String: String], String) async throws -> Void
    ) async throws {
        try await TestDatabases.withTemporaryDirectory { directory in
            let base = ["DATA_DIR": directory + "/data", "LOG_LEVEL": "warning"]
            switch kind {
            case .sqlite:
                try await body(base, directory)
            case .postgres:
                let url = try #require(TestDatabases.postgresURL)
                try await TestDatabases.withPostgresSchema { schema in
                    let separator = url.contains("?") ? "&" : "?"
                    var environment = base
                    environment["DATABASE_URL"] = url + separator + "sslmode=disable&search_path=\(schema)"
                    environment["DB_POOL_MIN"] = "0"
                    environment["DB_POOL_MAX"] = "3"
                    try await body(environment, directory)
                }
            }
        }
    }
}
