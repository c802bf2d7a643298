import Logging

/// The store's database as a configuration names it, open and reachable, with whatever keeps it
/// running: the embedded SQLite file, or a PostgreSQL pool whose background work runs until
/// ``close()``.
///
/// Used by ``BackendRuntime`` and by the `migrate` and `copy-database` commands, which need the
/// database without the rest of the service.
public final class BackendDatabase: Sendable {
    private enum Driver: Sendable {
        case sqlite(SQLiteDatabase)
        case postgres(PostgresDatabase, breaker: BreakerDatabase?, pool: Task<Void, any Error>)
    }

    private let driver: Driver

    private init(driver: Driver) {
        self.driver = driver
    }

    /// The database to build a store on or migrate.
    public var database: any Database {
        switch driver {
        case .sqlite(let database): database
        case .postgres(let database, let breaker, _): breaker ?? database
        }
    }

    /// The circuit breaker in front of PostgreSQL, when there is one (for health and metrics).
    public var breaker: BreakerDatabase? {
        if case .postgres(_, let breaker, _) = driver { return breaker }
        return nil
    }

    /// The PostgreSQL database, when that is the driver (for its metrics).
    public var postgres: PostgresDatabase? {
        if case .postgres(let database, _, _) = driver { return database }
        return nil
    }

    /// Opens the database; for PostgreSQL, starts the pool and waits until the server answers,
    /// retrying with backoff while it starts (`DB_STARTUP_ATTEMPTS`).
    ///
    /// - Parameters:
    ///   - configuration: `.sqlite` or `.postgres`.
    ///   - breaker: for PostgreSQL, put ``database`` behind a ``BreakerDatabase`` with this
    ///     configuration (`nil`: no breaker, as the one-shot commands run).
    ///   - logger: the driver's logger.
    /// - Returns: the open database; call ``close()`` when done.
    /// - Throws: ``StoreError/unavailable`` when the file cannot be opened or the server never
    ///   answered.
    public static func open(
        _ configuration: BackendConfiguration.Database,
        breaker: CircuitBreaker.StateMachine.Configuration? = nil, logger: Logger
    ) async throws -> BackendDatabase {
        switch configuration {
        case .sqlite(let sqlite):
            var driverLogger = logger
            driverLogger[metadataKey: "backend.db"] = "sqlite"
            return BackendDatabase(driver: .sqlite(try await SQLiteDatabase.open(sqlite, logger: driverLogger)))
        case .postgres(let postgresConfiguration):
            let database = PostgresDatabase(configuration: postgresConfiguration, logger: logger)
            // The pool works in the background for as long as the database is open; close() ends it.
            let pool = Task { try await database.run() }
            do {
                try await database.waitUntilReachable()
            } catch {
                pool.cancel()
                _ = await pool.result
                throw error
            }
            let guarded = breaker.map {
                BreakerDatabase(
                    base: database, configuration: $0,
                    reconnect: .init(
                        isListening: { await database.isListening() }, replacePool: { database.replacePool() }),
                    logger: Logger(label: "backend.persistence.breaker"))
            }
            return BackendDatabase(driver: .postgres(database, breaker: guarded, pool: pool))
        }
    }

    /// Closes the SQLite file, or stops the PostgreSQL pool and closes its connections. Safe to
    /// call from a cancelled task (see ``SQLiteDatabase/close()``).
    public func close() async {
        switch driver {
        case .sqlite(let database):
            await database.close()
        case .postgres(_, let breaker, let pool):
            await breaker?.shutdown()
            pool.cancel()
            _ = await pool.result
        }
    }
}
