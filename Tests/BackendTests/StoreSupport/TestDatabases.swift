import Backend
import Foundation
import Logging
import Synchronization
import Testing

/// Which driver a store test runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// Fresh, migrated databases for the store tests.
///
/// SQLite: a file in a new temporary directory, deleted afterwards. PostgreSQL: the server at
/// `HOMERACK_TEST_POSTGRES_URL` (set by `scripts/test.sh`), with a new schema `t_<random>` per
/// test that every pooled connection uses (`search_path`) and that is dropped afterwards, so
/// tests run in parallel without seeing each other. As in `IntegrationTests/TestServers.swift`,
/// PostgreSQL runs are left out when the URL is unset outside CI, and fail when `CI` is set
/// and it is missing.
enum TestDatabases {
    static let environment = ProcessInfo.processInfo.environment
    static var isCI: Bool { !(environment["CI"] ?? "").isEmpty }
    static var postgresURL: String? { environment["HOMERACK_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 } }
    static var postgresRequired: Bool { postgresURL != nil || isCI }

    /// The drivers to run each store test against.
    static var kinds: [StoreKind] { postgresRequired ? [.sqlite, .postgres] : [.sqlite] }

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "HOMERACK_TEST_POSTGRES_URL is not set: run the tests with ./scripts/test.sh, which starts PostgreSQL"
        }
    }

    /// Keeps the number of PostgreSQL-backed tests running at once (each with its own small
    /// pool) well under the test server's 100 connections.
    private static let postgresSlots = AsyncSemaphore(permits: 6)

    static let quietLogger: Logger = {
        var logger = Logger(label: "backend.tests.store")
        logger.logLevel = .warning
        return logger
    }()

    /// Runs `body` with a store over a fresh, migrated database of `kind`.
    static func withStore<T: Sendable>(
        _ kind: StoreKind, clock: TestClock = TestClock(), _ body: (SQLRackStore) async throws -> T
    ) async throws -> T {
        try await withDatabase(kind) { database in
            try await body(SQLRackStore(database: database, clock: clock.now))
        }
    }

    /// Runs `body` with a fresh database of `kind`, migrated unless `migrated` is false.
    static func withDatabase<T: Sendable>(
        _ kind: StoreKind, migrated: Bool = true, _ body: (any Database) async throws -> T
    ) async throws -> T {
        switch kind {
        case .sqlite:
            return try await withSQLite(migrated: migrated) { try await body($0) }
        case .postgres:
            return try await withPostgres(migrated: migrated) { try await body($0) }
        }
    }

    /// A fresh SQLite database in its own temporary directory.
    static func withSQLite<T: Sendable>(
        migrated: Bool = true, _ body: (SQLiteDatabase) async throws -> T
    ) async throws -> T {
        try await withTemporaryDirectory { directory in
            let database = try await SQLiteDatabase.open(.dataDirectory(directory), logger: quietLogger)
            do {
                if migrated { try await Migrator.migrate(database, logger: quietLogger) }
                let result = try await body(database)
                await database.close()
                return result
            } catch {
                await database.close()
                throw error
            }
        }
    }

    /// A new temporary directory, removed afterwards.
    static func withTemporaryDirectory<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("homerack-store-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try await body(directory)
    }

    /// The test server's configuration with a small pool, using `schema`.
    static func postgresConfiguration(schema: String?) throws -> PostgresDatabase.Configuration {
        guard let url = postgresURL else { throw Missing() }
        var configuration = try PostgresDatabase.Configuration(
            url: url, pool: .init(minimumConnections: 0, maximumConnections: 3))
        configuration.tls = .disable
        configuration.searchPath = schema
        configuration.startup = .init(attempts: 3, initialDelay: .milliseconds(100), attemptTimeout: .seconds(5))
        // The whole suite runs these tests in parallel against one server on two cores: a lease
        // can wait more than the production 10 s there. A bound, not a decision: tests of the
        // timeout itself set their own.
        configuration.leaseTimeout = .seconds(60)
        return configuration
    }

    /// A fresh schema on the test server, dropped afterwards.
    static func withPostgres<T: Sendable>(
        migrated: Bool = true, _ body: (PostgresDatabase) async throws -> T
    ) async throws -> T {
        try await withPostgresSchema { schema in
            try await PostgresDatabase.withRunning(try postgresConfiguration(schema: schema), logger: quietLogger) {
                database in
                if migrated { try await Migrator.migrate(database, logger: quietLogger) }
                return try await body(database)
            }
        }
    }

    /// Creates schema `t_<random>`, runs `body` with its name, then drops it.
    static func withPostgresSchema<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        return try await postgresSlots.withPermit {
            try await PostgresDatabase.withRunning(try postgresConfiguration(schema: nil), logger: quietLogger) {
                admin in
                try await admin.execute("CREATE SCHEMA \(schema)", [])
                do {
                    let result = try await body(schema)
                    try await admin.execute("DROP SCHEMA \(schema) CASCADE", [])
                    return result
                } catch {
                    _ = try? await admin.execute("DROP SCHEMA \(schema) CASCADE", [])
                    throw error
                }
            }
        }
    }
}

/// A clock that advances one millisecond per reading, so consecutive timestamps differ.
final class TestClock: Sendable {
    private let current: Mutex<Date>

    init(start: Date = Date(timeIntervalSince1970: 1_750_000_000)) {
        current = Mutex(start)
    }

    var now: @Sendable () -> Date {
        { [self] in
            current.withLock { date in
                date = date.addingTimeInterval(0.001)
                return date
            }
        }
    }
}

/// A counting semaphore for async code; waiters resume in arrival order.
final class AsyncSemaphore: Sendable {
    private struct State {
        var permits: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    init(permits: Int) {
        state = Mutex(State(permits: permits))
    }

    func withPermit<T>(_ body: () async throws -> T) async rethrows -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                if state.permits > 0 {
                    state.permits -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
        defer {
            let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if state.waiters.isEmpty {
                    state.permits += 1
                    return nil
                }
                return state.waiters.removeFirst()
            }
            next?.resume()
        }
        return try await body()
    }
}
