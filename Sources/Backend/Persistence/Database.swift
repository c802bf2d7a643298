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

/// One result row, by column position: what a ``PreparedRead`` decodes, so a wide row is read
/// without building a dictionary keyed by column name (an uncached layout's rows have about 85
/// columns, and hashing their names was a tenth of a worker's CPU).
///
/// A driver may hand over its cells undecoded (``OrderedCells``): a layout row repeats the rack's
/// columns and carries both a specification's and a model's, and a layout reads about a third of
/// its cells, so decoding each cell only when it is read saves the rest.
public struct OrderedRow: Sendable {
    private let cells: any OrderedCells

    /// A row whose values are already decoded (SQLite's, a test's).
    public init(values: [DatabaseValue]) { self.cells = DecodedCells(values: values) }

    /// A row whose cells are decoded when read.
    init(cells: some OrderedCells) { self.cells = cells }

    /// How many columns the row has.
    public var count: Int { cells.count }

    /// The value in column `index` (0-based, in select order).
    /// - Throws: the driver's error when the stored bytes cannot be decoded.
    public func value(at index: Int) throws -> DatabaseValue { try cells.value(at: index) }
}

/// A row's cells in select order, decoded one at a time when read.
protocol OrderedCells: Sendable {
    var count: Int { get }
    func value(at index: Int) throws -> DatabaseValue
}

/// Cells already decoded.
private struct DecodedCells: OrderedCells {
    let values: [DatabaseValue]

    var count: Int { values.count }
    func value(at index: Int) -> DatabaseValue { values[index] }
}

/// A read that runs often with the same text (an uncached layout): a driver may keep it prepared
/// on each connection instead of parsing and planning it at every run. PostgreSQL does (planning
/// a many-way join costs more than running it); SQLite runs it as any other statement. Both hand
/// the rows to ``decode(_:)`` by column position.
public protocol PreparedRead: Sendable {
    /// What the rows decode to.
    associatedtype Result: Sendable

    /// The statement's name on the server: unique among prepared reads, at most 63 bytes.
    static var name: String { get }
    /// The statement, with `?` placeholders.
    static var sql: String { get }

    /// The result from the statement's rows, in the order the statement returned them.
    /// - Throws: ``RowDecodingError`` when a stored value cannot be read.
    static func decode(_ rows: [OrderedRow]) throws -> Result
}

/// The one interface the store's queries run through. Two drivers implement it (the embedded
/// SQLite default and PostgreSQL); the queries and business rules above it exist once.
///
/// Drivers report their own failures as ``StoreError`` (constraint violations as
/// ``StoreError/conflict``, ``StoreError/invalidReference`` or ``StoreError/invalidValue``; an
/// unreachable, busy or closed database as ``StoreError/unavailable``), never with SQL text in
/// the detail. Errors a transaction's body throws pass through unchanged.
public protocol Database: Sendable {
    var dialect: SQLDialect { get }

    /// Runs a statement that returns rows (`SELECT`, or anything with `RETURNING`).
    func query(_ sql: String, _ binds: [DatabaseValue]) async throws -> [DatabaseRow]

    /// Runs a ``PreparedRead`` (prepared once per connection where the driver can) and decodes
    /// its rows.
    /// - Throws: the driver's ``StoreError``s, or the read's own ``RowDecodingError``.
    func query<Read: PreparedRead>(_ read: Read.Type, _ binds: [DatabaseValue]) async throws -> Read.Result

    /// Runs a statement for its effect.
    /// - Returns: the number of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ binds: [DatabaseValue]) async throws -> Int

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    ///
    /// Inside `body`, use only the database it receives (the SQLite driver's own handle waits
    /// for the transaction to end, so using it there deadlocks). A transaction opened on that
    /// handle is a savepoint: its failure rolls back only its own work.
    func transaction<T: Sendable>(_ body: @Sendable (any Database) async throws -> T) async throws -> T
}
