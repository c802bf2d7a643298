import Logging

/// Copies a whole HomeRack database into another: the migration path from the old
/// single-file (SQLite) setup to PostgreSQL.
///
/// Both schemas are first migrated to the latest version. Then, inside one transaction on
/// each side (the source's holds its write lock, so the copy is a consistent snapshot; the
/// target's makes the copy all-or-nothing), every table is copied in foreign-key order in
/// batches, keeping ids, and the target's id generators are moved past the largest id the
/// source ever handed out (deleted rows included), so new rows neither collide nor reuse the
/// id of a deleted record that a cache may still hold. The target must be empty.
public enum DatabaseCopy {
    /// Progress after each batch: the table, rows copied so far and the table's total.
    public struct Progress: Sendable, Hashable {
        public let table: String
        public let copiedRows: Int
        public let totalRows: Int
    }

    /// What was copied: rows per table, in copy order.
    public struct Report: Sendable, Hashable {
        public let tables: [TableCount]

        public struct TableCount: Sendable, Hashable {
            public let table: String
            public let rows: Int
        }

        /// All rows copied.
        public var totalRows: Int { tables.reduce(0) { $0 + $1.rows } }
    }

    /// Copies the embedded SQLite database into PostgreSQL.
    ///
    /// - Parameters:
    ///   - source: the SQLite database (migrated first if it is older).
    ///   - target: the PostgreSQL database; its pool must be running. It must hold no data.
    ///   - batchSize: rows per `INSERT`.
    ///   - progress: called after every batch, e.g. for a CLI to print `racks: 40/120`.
    /// - Returns: the rows copied per table.
    /// - Throws: ``StoreError/conflict`` when the target already holds data (nothing is
    ///   copied), or any store error (the target is left as it was).
    @discardableResult
    public static func copy(
        from source: SQLiteDatabase,
        to target: PostgresDatabase,
        batchSize: Int = 500,
        logger: Logger = Logger(label: "backend.persistence.copy"),
        progress: @escaping @Sendable (Progress) -> Void = { _ in }
    ) async throws -> Report {
        try await copy(
            from: source as any Database, to: target as any Database, batchSize: batchSize, logger: logger,
            progress: progress)
    }

    /// Copies between any two databases (either direction; tests also copy PostgreSQL back).
    @discardableResult
    public static func copy(
        from source: any Database,
        to target: any Database,
        batchSize: Int = 500,
        logger: Logger = Logger(label: "backend.persistence.copy"),
        progress: @escaping @Sendable (Progress) -> Void = { _ in }
    ) async throws -> Report {
        try await Migrator.migrate(source, logger: logger)
        try await Migrator.migrate(target, logger: logger)
        let batch = max(1, batchSize)
        let report = try await source.transaction { from in
            try await target.transaction { to in
                for table in TableCatalog.all {
                    let existing = try await to.queryFirst("SELECT COUNT(*) AS n FROM \(table.name)")?.int("n") ?? 0
                    if existing > 0 {
                        throw StoreError.conflict(
                            "The target database already holds data (\(existing) rows in \(table.name))")
                    }
                }
                var counts: [Report.TableCount] = []
                for table in TableCatalog.all {
                    let copied = try await copyTable(table, from: from, to: to, batchSize: batch, progress: progress)
                    counts.append(Report.TableCount(table: table.name, rows: copied))
                    let high =
                        try await from.queryFirst(from.dialect.identityHighWaterSQL(table: table.name))?
                        .int("high") ?? 0
                    for statement in to.dialect.resetIdentitySQL(table: table.name) {
                        _ = try await to.query(statement, [DatabaseValue(high)])
                    }
                }
                return Report(tables: counts)
            }
        }
        logger.info(
            "copied database",
            metadata: [
                "backend.copy.rows": "\(report.totalRows)",
                "backend.copy.tables": "\(report.tables.map { "\($0.table)=\($0.rows)" }.joined(separator: ","))",
            ])
        return report
    }

    /// Copies one table by ascending id, `batchSize` rows per read and per `INSERT`.
    private static func copyTable(
        _ table: TableDefinition, from source: any Database, to target: any Database, batchSize: Int,
        progress: @Sendable (Progress) -> Void
    ) async throws -> Int {
        let total = try await source.queryFirst("SELECT COUNT(*) AS n FROM \(table.name)")?.int("n") ?? 0
        let columns = table.columnNames.joined(separator: ", ")
        let rowPlaceholders = "(" + Array(repeating: "?", count: table.columns.count).joined(separator: ", ") + ")"
        var copied = 0
        var lastID = Int64.min
        progress(Progress(table: table.name, copiedRows: 0, totalRows: total))
        while true {
            let rows = try await source.query(
                "SELECT \(columns) FROM \(table.name) WHERE id > ? ORDER BY id LIMIT ?",
                [.integer(lastID), .integer(Int64(batchSize))])
            guard !rows.isEmpty else { break }
            var binds: [DatabaseValue] = []
            binds.reserveCapacity(rows.count * table.columns.count)
            for row in rows {
                for column in table.columns { binds.append(column.kind.coerce(row[column.name])) }
            }
            let values = Array(repeating: rowPlaceholders, count: rows.count).joined(separator: ", ")
            try await target.execute("INSERT INTO \(table.name) (\(columns)) VALUES \(values)", binds)
            copied += rows.count
            lastID = Int64(try rows[rows.count - 1].int("id"))
            progress(Progress(table: table.name, copiedRows: copied, totalRows: total))
        }
        return copied
    }
}
