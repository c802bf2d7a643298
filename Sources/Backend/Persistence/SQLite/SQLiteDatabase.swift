import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLiteNIO
import Synchronization

/// The embedded default store: one SQLite file in a data directory, through ``Database``.
///
/// ## Lifecycle
/// ``open(_:logger:)`` creates the directory and file if needed and returns a ready database
/// (no background task to run); ``close()`` releases it. Run ``Migrator/migrate(_:migrations:logger:now:)``
/// after opening.
///
/// ## Connection and concurrency
/// One connection, used by one statement or one transaction at a time (an ``AsyncSerialLock``
/// queues the rest in arrival order), on a private one-thread pool so a statement waiting on
/// another process's lock never starves anything else. The file is in WAL mode (readers in
/// other processes do not block the writer), with `foreign_keys` on (cascades and references
/// are enforced) and `busy_timeout` bounding how long a statement waits for another process's
/// write lock before failing with ``StoreError/unavailable``. Transactions are real
/// `BEGIN IMMEDIATE … COMMIT/ROLLBACK`, so two processes' writers queue rather than fail
/// half-way; a transaction inside a transaction is a `SAVEPOINT`.
public final class SQLiteDatabase: Database {
    /// Where the file is and how long to wait for other processes.
    public struct Configuration: Sendable {
        /// The database file's path.
        public var path: String
        /// How long a statement waits for another connection's lock before failing.
        public var busyTimeout: Duration

        /// - Parameters:
        ///   - path: the database file (its directory is created when missing).
        ///   - busyTimeout: the wait for another process's write lock; 5 s by default.
        public init(path: String, busyTimeout: Duration = .seconds(5)) {
            self.path = path
            self.busyTimeout = busyTimeout
        }

        /// The default file, `homerack.sqlite`, in `directory`.
        public static func dataDirectory(_ directory: String, fileName: String = "homerack.sqlite") -> Configuration {
            Configuration(path: URL(fileURLWithPath: directory).appendingPathComponent(fileName).path)
        }
    }

    public let dialect = SQLDialect.sqlite
    /// The database file.
    public let path: String

    private let connection: SQLiteConnection
    private let threadPool: NIOThreadPool
    private let lock = AsyncSerialLock()
    private let isClosed = Mutex(false)
    let logger: Logger

    private init(path: String, connection: SQLiteConnection, threadPool: NIOThreadPool, logger: Logger) {
        self.path = path
        self.connection = connection
        self.threadPool = threadPool
        self.logger = logger
    }

    /// Opens (creating when missing) the database file and configures the connection.
    ///
    /// - Parameters:
    ///   - configuration: the file and busy timeout.
    ///   - logger: the driver's logger (`backend.persistence.sqlite` by default).
    /// - Returns: an open database, not yet migrated.
    /// - Throws: ``StoreError/unavailable`` when the directory or file cannot be opened, or the
    ///   file is not a database.
    public static func open(
        _ configuration: Configuration,
        logger: Logger = Logger(label: "backend.persistence.sqlite")
    ) async throws -> SQLiteDatabase {
        let directory = URL(fileURLWithPath: configuration.path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError.unavailable("The data directory cannot be created", underlying: error)
        }
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(
                storage: .file(path: configuration.path), threadPool: threadPool, logger: logger,
                on: MultiThreadedEventLoopGroup.singleton.any())
        } catch {
            try? await threadPool.shutdownGracefully()
            throw StoreError.unavailable("The database file cannot be opened", underlying: error)
        }
        let database = SQLiteDatabase(
            path: configuration.path, connection: connection, threadPool: threadPool, logger: logger)
        do {
            try await database.configure(busyTimeout: configuration.busyTimeout)
        } catch {
            await database.close()
            throw error
        }
        logger.info("opened SQLite database", metadata: ["backend.db.path": "\(configuration.path)"])
        return database
    }

    /// Sets the per-connection pragmas, the busy timeout first so the others wait for locks.
    private func configure(busyTimeout: Duration) async throws {
        let millis = busyTimeout.components.seconds * 1000 + busyTimeout.components.attoseconds / 1_000_000_000_000_000
        _ = try await run("PRAGMA busy_timeout = \(max(0, millis))", [])
        let mode = try await run("PRAGMA journal_mode = WAL", [])
        guard mode.first?["journal_mode"].stringValue?.lowercased() == "wal" else {
            throw StoreError.unavailable("The database file cannot use write-ahead logging")
        }
        _ = try await run("PRAGMA synchronous = NORMAL", [])
        _ = try await run("PRAGMA foreign_keys = ON", [])
        let foreignKeys = try await run("PRAGMA foreign_keys", [])
        guard foreignKeys.first?["foreign_keys"].boolValue == true else {
            throw StoreError.failed("The database cannot enforce foreign keys")
        }
    }

    /// A database released without ``close()`` is closed in the background: SQLiteNIO traps
    /// when a connection is deinitialized open.
    deinit {
        guard !isClosed.withLock({ $0 }) else { return }
        logger.warning("SQLite database released without close()", metadata: ["backend.db.path": "\(path)"])
        let connection = self.connection
        let threadPool = self.threadPool
        Task {
            try? await connection.close()
            try? await threadPool.shutdownGracefully()
        }
    }

    /// Closes the connection; later calls fail with ``StoreError/unavailable``. Idempotent.
    ///
    /// Safe to call from a cancelled task (a service group cancels its services after the
    /// graceful-shutdown timeout): the closing runs in a task of its own, because SQLiteNIO's
    /// close gives up when its task is cancelled, and a connection released open traps.
    public func close() async {
        let wasClosed = isClosed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        let (lock, connection, threadPool, logger) = (self.lock, self.connection, self.threadPool, self.logger)
        await Task {
            await lock.withLock {
                do {
                    try await connection.close()
                } catch {
                    logger.warning("closing the SQLite database failed", metadata: ["backend.db.error": "\(error)"])
                }
            }
            try? await threadPool.shutdownGracefully()
        }.value
    }

    public func query(_ sql: String, _ binds: [DatabaseValue]) async throws -> [DatabaseRow] {
        try await lock.withLock {
            try checkOpen()
            return try await run(sql, binds)
        }
    }

    /// Runs the read as any other statement (SQLite plans it in microseconds), its rows by position.
    public func query<Read: PreparedRead>(_ read: Read.Type, _ binds: [DatabaseValue]) async throws -> Read.Result {
        let rows = try await lock.withLock {
            try checkOpen()
            return try await runOrdered(Read.sql, binds)
        }
        return try Read.decode(rows)
    }

    @discardableResult
    public func execute(_ sql: String, _ binds: [DatabaseValue]) async throws -> Int {
        try await lock.withLock {
            try checkOpen()
            return try await runCountingChanges(sql, binds)
        }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any Database) async throws -> T) async throws -> T {
        try await lock.withLock {
            try checkOpen()
            _ = try await run(dialect.beginTransactionSQL, [])
            do {
                let value = try await body(SQLiteSession(database: self, depth: 1))
                _ = try await run("COMMIT", [])
                return value
            } catch {
                do {
                    _ = try await run("ROLLBACK", [])
                } catch {
                    // SQLite has already rolled back after some errors (SQLITE_FULL, SQLITE_IOERR).
                    logger.debug(
                        "rollback after a failed transaction failed", metadata: ["backend.db.error": "\(error)"])
                }
                throw error
            }
        }
    }

    /// Whether a statement or transaction holds the connection now (tests wait on it to know a
    /// statement is under way).
    var hasStatementInProgress: Bool { lock.isHeld }

    private func checkOpen() throws {
        if isClosed.withLock({ $0 }) { throw StoreError.unavailable("The database is closed") }
    }

    // MARK: Unlocked execution (the caller holds the lock, or is inside a transaction)

    /// Runs one statement on the connection and converts its rows.
    func run(_ sql: String, _ binds: [DatabaseValue]) async throws -> [DatabaseRow] {
        try await runRaw(sql, binds).map { row in
            var values: [String: DatabaseValue] = [:]
            values.reserveCapacity(row.columns.count)
            for column in row.columns { values[column.name] = Self.databaseValue(column.data) }
            return DatabaseRow(values: values)
        }
    }

    /// Runs one statement on the connection, its rows by column position.
    func runOrdered(_ sql: String, _ binds: [DatabaseValue]) async throws -> [OrderedRow] {
        try await runRaw(sql, binds).map { row in
            OrderedRow(values: row.columns.map { Self.databaseValue($0.data) })
        }
    }

    private func runRaw(_ sql: String, _ binds: [DatabaseValue]) async throws -> [SQLiteRow] {
        do {
            return try await connection.query(sql, binds.map(Self.sqliteData))
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Runs one statement and reads `changes()`; safe because nothing else uses the connection meanwhile.
    func runCountingChanges(_ sql: String, _ binds: [DatabaseValue]) async throws -> Int {
        _ = try await run(sql, binds)
        return try await run("SELECT changes() AS changed", []).first?.int("changed") ?? 0
    }

    private static func sqliteData(_ value: DatabaseValue) -> SQLiteData {
        switch value {
        case .null: .null
        case .integer(let value): .integer(SQLiteInt64(value))
        case .real(let value): .float(value)
        case .text(let value): .text(value)
        case .bool(let value): .integer(value ? 1 : 0)
        }
    }

    private static func databaseValue(_ data: SQLiteData) -> DatabaseValue {
        switch data {
        case .null: .null
        case .integer(let value): .integer(Int64(value))
        case .float(let value): .real(value)
        case .text(let value): .text(value)
        case .blob(let buffer): .text(String(buffer: buffer))
        }
    }
}

/// The connection inside one ``SQLiteDatabase`` transaction: statements run directly (the
/// transaction holds the lock), and a nested transaction is a savepoint. Valid only while the
/// transaction's body runs.
struct SQLiteSession: Database {
    let database: SQLiteDatabase
    let depth: Int

    var dialect: SQLDialect { .sqlite }

    func query(_ sql: String, _ binds: [DatabaseValue]) async throws -> [DatabaseRow] {
        try await database.run(sql, binds)
    }

    func query<Read: PreparedRead>(_ read: Read.Type, _ binds: [DatabaseValue]) async throws -> Read.Result {
        try Read.decode(try await database.runOrdered(Read.sql, binds))
    }

    @discardableResult
    func execute(_ sql: String, _ binds: [DatabaseValue]) async throws -> Int {
        try await database.runCountingChanges(sql, binds)
    }

    func transaction<T: Sendable>(_ body: @Sendable (any Database) async throws -> T) async throws -> T {
        try await Savepoint.run(
            on: self, depth: depth, nested: SQLiteSession(database: database, depth: depth + 1), body)
    }
}
