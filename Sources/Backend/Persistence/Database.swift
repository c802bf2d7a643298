/// A value bound to, or read from, a SQL statement: the few types both SQLite and PostgreSQL
/// store the same way, so one set of queries serves both stores.
public enum DatabaseValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case bool(Bool)
}

/// Which SQL flavour a ``Database`` speaks; queries are written once, with `?` placeholders,
/// and the driver rewrites what differs (PostgreSQL's `$1`).
public enum SQLDialect: Sendable {
    case sqlite
    case postgres
}

/// One result row, by column name.
public struct DatabaseRow: Sendable {
    public let values: [String: DatabaseValue]

    public init(values: [String: DatabaseValue]) { self.values = values }

    public subscript(column: String) -> DatabaseValue { values[column] ?? .null }
}

/// The one interface the store's queries run through. Two drivers implement it (the embedded
/// SQLite default and PostgreSQL); the queries and business rules above it exist once.
public protocol Database: Sendable {
    var dialect: SQLDialect { get }

    /// Runs a statement that returns rows (`SELECT`, or anything with `RETURNING`).
    func query(_ sql: String, _ binds: [DatabaseValue]) async throws -> [DatabaseRow]

    /// Runs a statement for its effect.
    /// - Returns: the number of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ binds: [DatabaseValue]) async throws -> Int

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func transaction<T: Sendable>(_ body: @Sendable (any Database) async throws -> T) async throws -> T
}
