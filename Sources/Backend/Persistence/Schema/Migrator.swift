import Foundation
import Logging

/// Brings a database's schema to the latest version at start-up.
///
/// All pending migrations run in one transaction that first takes the dialect's migration
/// lock (``SQLDialect/migrationLockSQL``, or SQLite's `BEGIN IMMEDIATE`), so when several
/// workers start at once one migrates and the others wait, then find nothing left to do.
/// Applied versions are recorded in `schema_migrations`; a failure rolls everything back.
public enum Migrator {
    /// What one run did.
    public struct Report: Sendable, Hashable {
        /// The versions this run applied, oldest first (empty when already current).
        public let applied: [Int]
        /// The schema version after the run.
        public let currentVersion: Int
    }

    /// Applies every migration in `migrations` not yet recorded in `schema_migrations`.
    ///
    /// - Parameters:
    ///   - database: the database to migrate.
    ///   - migrations: the migrations to apply; this build's by default.
    ///   - logger: receives one line per applied version (info), and a warning when the
    ///     database is newer than this build.
    ///   - now: the clock that stamps `applied_at`.
    /// - Returns: what was applied and the resulting version.
    /// - Throws: ``StoreError`` when a statement fails; nothing is applied then.
    @discardableResult
    public static func migrate(
        _ database: any Database,
        migrations: [Migration] = Migration.all,
        logger: Logger = Logger(label: "backend.persistence.migrations"),
        now: @escaping @Sendable () -> Date = Date.init
    ) async throws -> Report {
        let sorted = migrations.sorted { $0.version < $1.version }
        let report = try await database.transaction { db in
            if let lock = db.dialect.migrationLockSQL { try await db.execute(lock, []) }
            try await db.execute(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at TEXT NOT NULL
                )
                """, [])
            let rows = try await db.query("SELECT version FROM schema_migrations ORDER BY version", [])
            let done = Set(try rows.map { try $0.int("version") })
            var applied: [Int] = []
            for migration in sorted where !done.contains(migration.version) {
                for statement in migration.statements(db.dialect) {
                    try await db.execute(statement, [])
                }
                try await db.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [DatabaseValue(migration.version), .text(migration.name), .text(Timestamp.string(from: now()))])
                applied.append(migration.version)
            }
            let current = max(done.max() ?? 0, applied.max() ?? 0)
            return Report(applied: applied, currentVersion: current)
        }
        for version in report.applied {
            let name = sorted.first { $0.version == version }?.name ?? ""
            logger.info(
                "applied schema migration",
                metadata: ["backend.db.migration": "\(version)", "backend.db.migration_name": "\(name)"])
        }
        if let latest = sorted.last?.version, report.currentVersion > latest {
            logger.warning(
                "database schema is newer than this build",
                metadata: ["backend.db.schema_version": "\(report.currentVersion)", "backend.db.known": "\(latest)"])
        }
        return report
    }

    /// The versions recorded in `schema_migrations` (empty before the first migration).
    public static func appliedVersions(_ database: any Database) async throws -> [Int] {
        let exists = try await database.query(database.dialect.columnNamesSQL, [.text("schema_migrations")])
        guard !exists.isEmpty else { return [] }
        let rows = try await database.query("SELECT version FROM schema_migrations ORDER BY version", [])
        return try rows.map { try $0.int("version") }
    }
}
