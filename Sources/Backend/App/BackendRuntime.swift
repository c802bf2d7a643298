import Foundation
import Hummingbird
import Logging
import NIOPosix
import ServiceLifecycle

/// One worker's service apart from its HTTP server: the store (migrated), the cache, the metrics
/// and the health state, built from a ``BackendConfiguration``.
///
/// ```swift
/// let runtime = try await BackendRuntime.start(configuration, logger: logger)
/// let app = Application(router: runtime.makeRouter(), configuration: ...)
/// try await ServiceGroup(services: [runtime, app], gracefulShutdownSignals: [.sigterm], logger: logger).run()
/// ```
///
/// Put the runtime before the application in the service group: the group stops services in
/// reverse order, so the server drains its requests before the runtime closes the database and
/// the cache they use.
public final class BackendRuntime: Service {
    public let configuration: BackendConfiguration
    public let services: BackendServices
    public let metrics: BackendMetrics
    private let database: BackendDatabase
    private let redis: RedisResultCache?
    private let logger: Logger

    private init(
        configuration: BackendConfiguration, services: BackendServices, database: BackendDatabase,
        redis: RedisResultCache?, logger: Logger
    ) {
        self.configuration = configuration
        self.services = services
        self.metrics = services.metrics
        self.database = database
        self.redis = redis
        self.logger = logger
    }

    /// The longest start-up waits for the cache's connections (``RedisConnectionPool/warmUp(within:)``).
    public static let cacheWarmUpLimit: Duration = .milliseconds(250)

    /// Opens the store, migrates it, and connects the cache.
    ///
    /// Several workers may start at once: migrations take a lock, so one applies them and the
    /// others find nothing left to do. PostgreSQL is retried with backoff while it starts. The
    /// cache's connections are opened too, but never waited for longer than
    /// ``cacheWarmUpLimit``: a cache that cannot connect is a miss, never a reason not to start.
    ///
    /// - Parameters:
    ///   - configuration: the loaded configuration.
    ///   - logger: the service's logger; drivers log under labels of their own.
    /// - Returns: a runtime whose ``services`` are ready; run it (``run()``) or ``shutdown()`` it.
    /// - Throws: ``StoreError`` when the database cannot be opened or migrated; the uploads
    ///   directory's error when it cannot be created.
    public static func start(_ configuration: BackendConfiguration, logger: Logger) async throws -> BackendRuntime {
        let startup = StartupState(migrationsDone: false)
        logger.info(
            "starting",
            metadata: [
                "backend.version": "\(BackendVersion.current)",
                "backend.config": .dictionary(
                    configuration.summary.mapValues { .string($0) }),
            ])
        try FileManager.default.createDirectory(
            atPath: configuration.uploadsDirectory, withIntermediateDirectories: true)

        let database = try await BackendDatabase.open(
            configuration.database, breaker: configuration.databaseBreaker, logger: Logger(label: "backend.persistence")
        )
        do {
            let report = try await Migrator.migrate(
                database.database, logger: Logger(label: "backend.persistence.migrations"))
            startup.markMigrationsDone()
            logger.info("database ready", metadata: ["backend.db.schema_version": "\(report.currentVersion)"])
            // Start-up needed one connection; the rest of DB_POOL_MIN opens in the background, one
            // at a time, while this process already serves.
            database.postgres?.fillPool()
        } catch {
            await database.close()
            throw error
        }

        var redis: RedisResultCache?
        if let cache = configuration.cache {
            let cacheLogger = Logger(label: "backend.cache")
            redis = RedisResultCache(
                pool: RedisConnectionPool(
                    configuration: cache.redis, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                    logger: cacheLogger),
                breaker: CircuitBreaker(name: "redis", configuration: cache.breaker, logger: cacheLogger),
                logger: cacheLogger)
            let open = await redis?.pool.warmUp(within: cacheWarmUpLimit) ?? 0
            logger.debug("cache connections opened", metadata: ["backend.cache.connections": "\(open)"])
        }

        let metrics = BackendMetrics(postgres: database.postgres, databaseBreaker: database.breaker)
        let services = BackendServices(
            store: SQLRackStore(database: database.database),
            cache: redis ?? NoResultCache(),
            uploadsDirectory: configuration.uploadsDirectory,
            maxUploadBytes: configuration.maxUploadBytes,
            tokens: configuration.apiTokens,
            startup: startup,
            metrics: metrics,
            diagnostics: ServiceDiagnostics(
                dataDirectory: configuration.dataDirectory, configurationSummary: configuration.summary))
        return BackendRuntime(
            configuration: configuration, services: services, database: database, redis: redis, logger: logger)
    }

    /// The router over this runtime's services (``BackendRouter``).
    public func makeRouter() -> Router<BackendRequestContext> {
        BackendRouter.build(services)
    }

    /// Keeps the database and cache open until graceful shutdown or cancellation, then closes
    /// them (``shutdown()``).
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Closes the cache's connections and the database. For runtimes that are not run as a
    /// service (a command that only needed the store); ``run()`` calls it on its way out. Runs to
    /// the end even when the calling task is cancelled.
    public func shutdown() async {
        let (redis, database, logger) = (self.redis, self.database, self.logger)
        await Task {
            await redis?.shutdown()
            await database.close()
            logger.info("stopped")
        }.value
    }
}
