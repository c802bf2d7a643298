import Foundation
import RackPlanning

/// The one ``RackRepository`` implementation, over any ``Database``: the same queries and
/// rules serve the embedded SQLite default and PostgreSQL.
///
/// Construct it over an open, migrated database: `SQLRackStore(database: sqlite)` or
/// `SQLRackStore(database: postgres)`. It holds no state of its own, so copies are cheap; a
/// transaction hands its body a store over the transaction's connection.
public struct SQLRackStore: RackRepository {
    public let database: any Database
    /// The clock that stamps `created_at`, `updated_at` and `last_updated`.
    let clock: @Sendable () -> Date

    /// - Parameters:
    ///   - database: an open database whose schema ``Migrator`` has brought up to date.
    ///   - clock: the time source for timestamps (tests pass a fixed one).
    public init(database: any Database, clock: @escaping @Sendable () -> Date = Date.init) {
        self.database = database
        self.clock = clock
    }

    var dialect: SQLDialect { database.dialect }

    /// The current time as stored.
    func now() -> DatabaseValue { .text(Timestamp.string(from: clock())) }

    public func transaction<T: Sendable>(_ body: @Sendable (any RackRepository) async throws -> T) async throws -> T {
        let clock = self.clock
        return try await database.transaction { db in try await body(SQLRackStore(database: db, clock: clock)) }
    }

    /// Runs `body` with a store over one transaction (a savepoint when already in one).
    func atomically<T: Sendable>(_ body: @Sendable (SQLRackStore) async throws -> T) async throws -> T {
        let clock = self.clock
        return try await database.transaction { db in try await body(SQLRackStore(database: db, clock: clock)) }
    }

    public func ping() async throws {
        try await database.ping()
    }

    // MARK: Helpers shared by the entity files

    /// `a = ?, b = ?, …` for a comma-separated column list.
    static func assignments(_ columns: String) -> String {
        columns.split(separator: ",")
            .map { "\($0.trimmingCharacters(in: .whitespacesAndNewlines)) = ?" }
            .joined(separator: ", ")
    }

    /// `(?, ?, …)` for `count` binds.
    static func placeholders(_ count: Int) -> String {
        "(" + Array(repeating: "?", count: count).joined(separator: ", ") + ")"
    }

    /// Runs `sql` (ending in `IN`) once per chunk of `ids`, so no statement exceeds either
    /// engine's bind limit, and concatenates the rows.
    func queryIn(_ sql: String, ids: [Int], suffix: String = "") async throws -> [DatabaseRow] {
        var rows: [DatabaseRow] = []
        let unique = Array(Set(ids)).sorted()
        var start = 0
        while start < unique.count {
            let chunk = Array(unique[start..<min(start + 500, unique.count)])
            rows += try await database.query(
                sql + " " + Self.placeholders(chunk.count) + suffix, chunk.map { DatabaseValue($0) })
            start += chunk.count
        }
        return rows
    }

    /// Decodes rows, turning unreadable data into ``StoreError/failed``.
    func decode<T>(_ rows: [DatabaseRow], _ decoder: (DatabaseRow) throws -> T) throws -> [T] {
        do {
            return try rows.map(decoder)
        } catch {
            throw StoreError.failed("Stored data could not be read", underlying: error)
        }
    }

    /// Decodes the single row, or throws ``StoreError/notFound`` with `notFound`.
    func decodeOne<T>(_ rows: [DatabaseRow], notFound: @autoclosure () -> String, _ decoder: (DatabaseRow) throws -> T)
        throws -> T
    {
        guard let row = rows.first else { throw StoreError.notFound(notFound()) }
        return try decode([row], decoder)[0]
    }

    /// Whether a row with this id exists in `table`.
    func exists(_ table: String, id: Int) async throws -> Bool {
        try await database.queryFirst("SELECT 1 AS found FROM \(table) WHERE id = ?", [DatabaseValue(id)]) != nil
    }

    /// Turns a foreign-key failure into a precise ``StoreError/invalidReference``: the first of
    /// `references` (table, id, what to call it) that does not exist.
    ///
    /// SQLite does not say which key failed, so the store looks. Call it after the failed
    /// statement's transaction (or savepoint) has rolled back; if looking fails too (an outer
    /// PostgreSQL transaction is already aborted), the original error is kept.
    func explainMissingReference(_ error: StoreError, _ references: [(table: String, id: Int?, label: String)]) async
        -> StoreError
    {
        for reference in references {
            guard let id = reference.id else { continue }
            guard let found = try? await exists(reference.table, id: id) else { return error }
            if !found { return StoreError.invalidReference("\(reference.label) \(id) not found", underlying: error) }
        }
        return error
    }

    /// Moves `updated_at` of the racks whose layout reads change with the given rows.
    ///
    /// - Parameters:
    ///   - condition: which racks, as a `WHERE` condition on `racks.id`.
    ///   - binds: the condition's binds.
    func touchRacks(where condition: String, _ binds: [DatabaseValue]) async throws {
        try await database.execute("UPDATE racks SET updated_at = ? WHERE \(condition)", [now()] + binds)
    }

    /// Moves `updated_at` of the racks where these devices are placed.
    func touchRacks(holdingDevicesWhere condition: String, _ binds: [DatabaseValue]) async throws {
        let racksHolding = "SELECT p.rack_id FROM rack_positions p JOIN devices d ON d.id = p.device_id"
        try await touchRacks(where: "id IN (\(racksHolding) WHERE \(condition))", binds)
    }
}
