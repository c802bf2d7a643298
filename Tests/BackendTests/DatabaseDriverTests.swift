import Foundation
import Logging
import NIOCore
import Testing

@testable import Backend

@Suite("Database: drivers")
struct DatabaseDriverTests {
    // MARK: Shared behaviour

    @Test(arguments: TestDatabases.kinds)
    func aTransactionCommitsOnReturnAndRollsBackOnThrow(kind: StoreKind) async throws {
        struct Abort: Error {}
        try await TestDatabases.withDatabase(kind) { database in
            let insert = "INSERT INTO device_types (name, slug, created_at, updated_at) VALUES (?, ?, 'now', 'now')"
            _ = try await database.transaction { db in
                try await db.execute(insert, [.text("kept"), .text("kept")])
            }
            await #expect(throws: Abort.self) {
                try await database.transaction { db in
                    try await db.execute(insert, [.text("lost"), .text("lost")])
                    throw Abort()
                }
            }
            try await database.transaction { db in
                try await db.execute(insert, [.text("outer"), .text("outer")])
                await #expect(throws: StoreError.conflict) {
                    try await db.transaction { nested in
                        try await nested.execute(insert, [.text("inner"), .text("inner")])
                        try await nested.execute(insert, [.text("kept"), .text("again")])
                    }
                }
            }
            let names = try await database.query("SELECT name FROM device_types ORDER BY id", []).map {
                try $0.string("name")
            }
            #expect(names == ["kept", "outer"])
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func valuesRoundTripWithTheirTypes(kind: StoreKind) async throws {
        try await TestDatabases.withDatabase(kind) { database in
            let count = try await database.execute(
                "INSERT INTO racks (name, location, total_height_u, depth_mm, created_at, updated_at) "
                    + "VALUES (?, ?, ?, ?, ?, ?)",
                [.text("it's a \"rack\"?"), .null, .integer(12), .real(612.5), .text("t1"), .text("t2")])
            #expect(count == 1)
            let row = try #require(try await database.queryFirst("SELECT * FROM racks WHERE name LIKE '%?%'"))
            #expect(try row.string("name") == "it's a \"rack\"?")
            #expect(row["location"] == .null)
            #expect(try row.int("total_height_u") == 12)
            #expect(try row.double("depth_mm") == 612.5)
            #expect(try row.double("max_weight_kg") == 500)
            #expect(try row.string("width_inches") == "19\"")
            #expect(
                try await database.execute("UPDATE racks SET name = ? WHERE id > ?", [.text("x"), .integer(0)]) == 1)
            #expect(try await database.execute("DELETE FROM racks WHERE id = ?", [.integer(999)]) == 0)
        }
    }

    // MARK: SQLite

    @Test func sqliteOpensAWALFileWithForeignKeysAndABusyTimeout() async throws {
        try await TestDatabases.withTemporaryDirectory { directory in
            let database = try await SQLiteDatabase.open(
                .init(path: directory + "/nested/data.sqlite", busyTimeout: .milliseconds(1500)),
                logger: TestDatabases.quietLogger)
            #expect(FileManager.default.fileExists(atPath: directory + "/nested/data.sqlite"))
            #expect(try await database.queryFirst("PRAGMA journal_mode")?.string("journal_mode") == "wal")
            #expect(try await database.queryFirst("PRAGMA foreign_keys")?.int("foreign_keys") == 1)
            #expect(try await database.queryFirst("PRAGMA busy_timeout")?.int("timeout") == 1500)
            await database.close()
            await #expect(throws: StoreError.unavailable) { try await database.ping() }
        }
    }

    @Test func sqliteWritersInTwoConnectionsQueueOnTheWriteLock() async throws {
        try await TestDatabases.withTemporaryDirectory { directory in
            let holder = try await SQLiteDatabase.open(.dataDirectory(directory), logger: TestDatabases.quietLogger)
            try await Migrator.migrate(holder, logger: TestDatabases.quietLogger)
            let patient = try await SQLiteDatabase.open(
                .init(path: holder.path, busyTimeout: .seconds(10)), logger: TestDatabases.quietLogger)
            let impatient = try await SQLiteDatabase.open(
                .init(path: holder.path, busyTimeout: .milliseconds(100)), logger: TestDatabases.quietLogger)
            let insert = "INSERT INTO device_types (name, slug, created_at, updated_at) VALUES (?, ?, 'now', 'now')"

            // The holder keeps its transaction open until told, not for a fixed time: on a loaded
            // machine a fixed hold could end before the other writers even start.
            let (locked, signalLocked) = AsyncStream<Void>.makeStream()
            let (released, release) = AsyncStream<Void>.makeStream()
            let writer = Task {
                _ = try await holder.transaction { db in
                    try await db.execute(insert, [.text("first"), .text("first")])
                    signalLocked.yield()
                    for await _ in released { break }
                }
            }
            for await _ in locked { break }
            // The patient writer starts while the lock is held, and the test waits until its
            // statement holds its connection (it is inside SQLite, waiting for the write lock)…
            let second = Task { try await patient.execute(insert, [.text("second"), .text("second")]) }
            let underWay = ContinuousClock.now + .seconds(30)
            while !patient.hasStatementInProgress {
                try #require(ContinuousClock.now < underWay, "the patient writer never started")
                try await Task.sleep(for: .milliseconds(1))
            }
            // …then another writer, whose busy timeout is shorter than the transaction, fails: its
            // failure takes its whole 100 ms timeout, all of which the patient writer spends waiting
            // on the same lock. So the release below always finds the patient waiting (a fixed
            // sleep here, too short on a loaded machine, let the patient start after the release).
            await #expect(throws: StoreError.unavailable) {
                try await impatient.execute(insert, [.text("third"), .text("third")])
            }
            #expect(patient.hasStatementInProgress, "the patient writer gave up or finished while the lock was held")
            // The patient waits for the transaction to commit rather than failing.
            release.yield()
            _ = try await second.value
            try await writer.value
            let names = try await holder.query("SELECT name FROM device_types ORDER BY id", []).map {
                try $0.string("name")
            }
            #expect(names == ["first", "second"])
            await patient.close()
            await impatient.close()
            await holder.close()
        }
    }

    // MARK: PostgreSQL without a server

    @Test func placeholdersBecomeNumberedOutsideLiteralsAndComments() {
        let sql =
            "SELECT '?' AS q, \"a?\" FROM t -- why?\nWHERE a = ? AND b IN (?, ?) /* ? */ AND c = 'it''s ?' OR d = ?"
        #expect(
            PostgresPlaceholders.rewrite(sql)
                == "SELECT '?' AS q, \"a?\" FROM t -- why?\n"
                + "WHERE a = $1 AND b IN ($2, $3) /* ? */ AND c = 'it''s ?' OR d = $4"
        )
        #expect(PostgresPlaceholders.rewrite("SELECT 1") == "SELECT 1")
        #expect(PostgresPlaceholders.isRead("  SELECT * FROM racks"))
        #expect(PostgresPlaceholders.isRead("(select 1)"))
        #expect(!PostgresPlaceholders.isRead("INSERT INTO racks DEFAULT VALUES RETURNING id"))
        #expect(!PostgresPlaceholders.isRead("UPDATE racks SET name = 'SELECT'"))
    }

    @Test func aDatabaseURLIsReadAndNeverEchoed() throws {
        let configuration = try PostgresDatabase.Configuration(
            url: "postgresql://rack%40ops:s3cr%3At@db.example.com:6543/homerack?sslmode=require&search_path=app")
        #expect(configuration.username == "rack@ops")
        #expect(configuration.password == "s3cr:t")
        #expect(configuration.host == "db.example.com" && configuration.port == 6543)
        #expect(configuration.database == "homerack")
        #expect(configuration.tls == .require && configuration.searchPath == "app")
        #expect(!configuration.redactedDescription.contains("s3cr"))
        #expect(configuration.redactedDescription.contains("rack@ops:***@db.example.com:6543/homerack"))

        let error = #expect(throws: StoreError.invalidValue) {
            try PostgresDatabase.Configuration(url: "mysql://root:hunter2@db/x")
        }
        #expect(error?.detail.contains("hunter2") == false)
        #expect(throws: StoreError.invalidValue) { try PostgresDatabase.Configuration(url: "postgres://db/x") }
        #expect(throws: StoreError.invalidValue) {
            try PostgresDatabase.Configuration(url: "postgres://u@db/x?sslmode=sometimes")
        }
    }

    @Test func thePoolDefaultsToTenConnectionsKeptAlive() {
        let pool = PostgresDatabase.Configuration.Pool()
        #expect(pool.minimumConnections == 10 && pool.maximumConnections == 10)
        #expect(pool.keepAliveFrequency == .seconds(30) && pool.idleTimeout == .seconds(60))
        let sized = PostgresDatabase.Configuration.Pool(minimumConnections: 5, maximumConnections: 7)
        let client = PostgresDatabase.Configuration(username: "u", pool: sized).clientConfiguration
        // PostgresNIO's pool starts with one connection; PoolFiller opens the other four later.
        #expect(client.options.minimumConnections == 1 && client.options.maximumConnections == 7)
        #expect(client.options.keepAliveBehavior?.frequency == .seconds(30))
        // A maximum below the minimum is raised to it.
        #expect(PostgresDatabase.Configuration.Pool(minimumConnections: 8, maximumConnections: 3).maximumConnections == 8)
    }

    @Test func backoffDoublesUpToItsCap() {
        var backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(3))
        let delays = (0..<5).map { _ in backoff.next() }
        #expect(delays == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(3), .seconds(3)])
    }

    @Test func anUnreachableServerFailsStartupAfterBoundedRetriesAndQueriesAfterTheLeaseTimeout() async throws {
        let configuration = PostgresDatabase.Configuration(
            host: "127.0.0.1", port: 1, username: "nobody", tls: .disable,
            pool: .init(minimumConnections: 0, maximumConnections: 2, connectTimeout: .milliseconds(200)),
            startup: .init(attempts: 3, initialDelay: .milliseconds(50), attemptTimeout: .milliseconds(300)),
            leaseTimeout: .milliseconds(300))
        let started = ContinuousClock.now
        try await PostgresDatabase.withRunning(configuration, logger: TestDatabases.quietLogger) { database in
            let startup = await #expect(throws: StoreError.unavailable) { try await database.waitUntilReachable() }
            #expect(startup?.detail == "PostgreSQL is unreachable")
            let query = await #expect(throws: StoreError.unavailable) { try await database.ping() }
            #expect(query?.detail == "No database connection became available in time")
            await #expect(throws: StoreError.unavailable) {
                try await database.transaction { db in try await db.execute("SELECT 1", []) }
            }
            #expect(database.counters.leaseTimeouts >= 5)
        }
        // Bounded, not hanging: about 3 s alone; the wide bound absorbs a fully loaded machine.
        #expect(ContinuousClock.now - started < .seconds(90))
    }

    @Test func connectionFailuresAreBrokenConnectionsAndConstraintsMapToStoreErrors() {
        #expect(PostgresDatabase.isBrokenConnection(ChannelError.ioOnClosedChannel))
        #expect(!PostgresDatabase.isBrokenConnection(StoreError.conflict("x")))
        #expect(PostgresDatabase.storeError(LeaseTimedOut()) == .unavailable)
        #expect(PostgresDatabase.storeError(ChannelError.ioOnClosedChannel) == .unavailable)
        #expect(
            ConstraintCatalog.detail(forSQLiteMessage: "UNIQUE constraint failed: brands.slug")
                == "A brand with this slug already exists")
        #expect(
            ConstraintCatalog.detail(forSQLiteMessage: "UNIQUE constraint failed: index 'models_identity'")
                == "A model with this name and variant already exists for this brand")
        #expect(
            ConstraintCatalog.detail(forSQLiteMessage: "CHECK constraint failed: connections_distinct_ends")
                == "A connection must join two different devices")
        #expect(ConstraintCatalog.detail(forSQLiteMessage: "UNIQUE constraint failed: racks.name") == nil)
    }

    @Test func timestampsAreUTCWithMicroseconds() {
        #expect(Timestamp.string(from: Date(timeIntervalSince1970: 0.5)) == "1970-01-01T00:00:00.500000Z")
        #expect(
            Timestamp.string(from: Date(timeIntervalSince1970: 1_750_000_000.000123))
                == "2025-06-15T15:06:40.000123Z")
    }

    // MARK: PostgreSQL with the test server

    @Test(.enabled(if: TestDatabases.postgresRequired))
    func aReadOnAConnectionTheServerDroppedSucceedsOnAnother() async throws {
        try await TestDatabases.withPostgresSchema { schema in
            var configuration = try TestDatabases.postgresConfiguration(schema: schema)
            configuration.pool = .init(minimumConnections: 1, maximumConnections: 1, keepAliveFrequency: nil)
            try await PostgresDatabase.withRunning(configuration, logger: TestDatabases.quietLogger) { database in
                try await database.waitUntilReachable()
                let pid = try #require(try await database.queryFirst("SELECT pg_backend_pid() AS pid")?.int("pid"))
                try await PostgresDatabase.withRunning(
                    try TestDatabases.postgresConfiguration(schema: nil), logger: TestDatabases.quietLogger
                ) { admin in
                    _ = try await admin.query(
                        "SELECT pg_terminate_backend(CAST(? AS INTEGER)) AS done", [DatabaseValue(pid)])
                }
                // The pool's only connection is gone: the read fails on it (or finds it closed)
                // and runs again on the replacement.
                let next = try #require(try await database.queryFirst("SELECT pg_backend_pid() AS pid")?.int("pid"))
                #expect(next != pid)
            }
        }
    }

    @Test(.enabled(if: TestDatabases.postgresRequired))
    func aWriteThatLosesItsConnectionFailsAsUnavailableAndLeavesNothing() async throws {
        try await TestDatabases.withPostgres { database in
            // The statement terminates its own backend part-way: the server rolls it back.
            let error = await #expect(throws: StoreError.unavailable) {
                try await database.execute(
                    """
                    INSERT INTO device_types (name, slug, created_at, updated_at) \
                    SELECT 'x', 'x', 'now', 'now' WHERE pg_terminate_backend(pg_backend_pid())
                    """, [])
            }
            #expect(error?.detail == "The database is unavailable")
            #expect(database.counters.retriedReads == 0)
            let count = try await database.queryFirst("SELECT COUNT(*) AS n FROM device_types")?.int("n")
            #expect(count == 0)
        }
    }

    /// Start-up needs one connection, so a new worker is ready without waiting for (or competing
    /// with) its whole pool: the pool opens one, and the rest of the minimum once `fillPool()` is
    /// called, one at a time. Counted on the server, by the pool's application name.
    @Test(.enabled(if: TestDatabases.postgresRequired))
    func aPoolStartsWithOneConnectionAndFillsToItsMinimumAfterwards() async throws {
        var configuration = try TestDatabases.postgresConfiguration(schema: nil)
        configuration.pool = .init(minimumConnections: 4, maximumConnections: 6)
        let name = "fill-" + UUID().uuidString.prefix(8).lowercased()
        configuration.applicationName = name
        try await PostgresDatabase.withRunning(configuration, logger: TestDatabases.quietLogger) { database in
            @Sendable func open() async throws -> Int {
                try #require(
                    try await database.queryFirst(
                        "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE application_name = ?", [.text(name)]
                    )?.int("n"))
            }
            try await database.waitUntilReachable()
            #expect(try await open() == 1, "the pool opened more than start-up needs")
            database.fillPool()
            let deadline = ContinuousClock.now + .seconds(30)
            var count = try await open()
            while count < 4 {
                try #require(ContinuousClock.now < deadline, "the pool holds \(count) connections, not 4")
                // Polling sparsely: the filler pauses while any query runs (this one included).
                try await Task.sleep(for: .milliseconds(100))
                count = try await open()
            }
        }
    }
}
