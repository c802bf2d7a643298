/// Building binds from Swift values, and reading typed values back from either driver.
///
/// SQLite has no boolean or exact column types (booleans come back as `0`/`1`, a `REAL` column
/// may return a whole number as `.real`), while PostgreSQL returns exactly what the column
/// holds; the readers here accept both spellings so the store's decoding is written once.
extension DatabaseValue {
    /// `.integer`, or `.null` for `nil`.
    public init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    /// `.real`, or `.null` for `nil`.
    public init(_ value: Double?) { self = value.map { .real($0) } ?? .null }
    /// `.text`, or `.null` for `nil`.
    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    /// `.bool`, or `.null` for `nil`.
    public init(_ value: Bool?) { self = value.map { .bool($0) } ?? .null }

    /// Whether this is SQL `NULL`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value as an integer: integers, whole reals, booleans (0/1) and numeric text.
    public var intValue: Int? {
        switch self {
        case .integer(let value): Int(exactly: value)
        case .real(let value): value.isFinite && value.rounded() == value ? Int(exactly: value) : nil
        case .bool(let value): value ? 1 : 0
        case .text(let value): Int(value)
        case .null: nil
        }
    }

    /// The value as a double: reals, integers and numeric text.
    public var doubleValue: Double? {
        switch self {
        case .real(let value): value
        case .integer(let value): Double(value)
        case .text(let value): Double(value)
        case .bool, .null: nil
        }
    }

    /// The value as text; numbers are not converted (a number where text belongs is a schema bug).
    public var stringValue: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    /// The value as a boolean: booleans, and SQLite's integers `0`/`1`.
    public var boolValue: Bool? {
        switch self {
        case .bool(let value): value
        case .integer(let value): value != 0
        case .real(let value): value != 0
        case .text(let value): ["t", "true", "1"].contains(value.lowercased())
        case .null: nil
        }
    }
}

/// A column that is missing, `NULL` where a value is required, or of the wrong type.
///
/// Only the column name is kept: stored values may be personal data.
public struct RowDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    public let column: String
    public let expected: String

    public var description: String { "column \(column) is not a readable \(expected)" }
}

/// A row's values read by some column key (a name, or a ``Column`` of a table), with the typed
/// readers the store's decoders use; one set of readers serves every kind of row.
public protocol RowValues {
    associatedtype Key

    /// The value at `key` (`.null` when the row has no such column).
    /// - Throws: the driver's error when a cell decoded only now cannot be read.
    func value(_ key: Key) throws -> DatabaseValue

    /// The column's name, for a ``RowDecodingError``.
    func columnName(_ key: Key) -> String
}

extension RowValues {
    /// A required integer column.
    /// - Throws: ``RowDecodingError`` when it is `NULL` or not an integer.
    public func int(_ column: Key) throws -> Int {
        guard let value = try value(column).intValue else { throw failure(column, "integer") }
        return value
    }

    /// A required real column.
    /// - Throws: ``RowDecodingError`` when it is `NULL` or not a number.
    public func double(_ column: Key) throws -> Double {
        guard let value = try value(column).doubleValue else { throw failure(column, "number") }
        return value
    }

    /// A required text column.
    /// - Throws: ``RowDecodingError`` when it is `NULL` or not text.
    public func string(_ column: Key) throws -> String {
        guard let value = try value(column).stringValue else { throw failure(column, "text") }
        return value
    }

    /// A required boolean column.
    /// - Throws: ``RowDecodingError`` when it is `NULL` or not a boolean.
    public func bool(_ column: Key) throws -> Bool {
        guard let value = try value(column).boolValue else { throw failure(column, "boolean") }
        return value
    }

    /// An optional integer column (`nil` for `NULL`).
    /// - Throws: ``RowDecodingError`` when it holds something other than an integer.
    public func optionalInt(_ column: Key) throws -> Int? {
        let value = try value(column)
        if value.isNull { return nil }
        guard let int = value.intValue else { throw failure(column, "integer") }
        return int
    }

    /// An optional real column (`nil` for `NULL`).
    /// - Throws: ``RowDecodingError`` when it holds something other than a number.
    public func optionalDouble(_ column: Key) throws -> Double? {
        let value = try value(column)
        if value.isNull { return nil }
        guard let double = value.doubleValue else { throw failure(column, "number") }
        return double
    }

    /// An optional text column (`nil` for `NULL`).
    /// - Throws: ``RowDecodingError`` when it holds something other than text.
    public func optionalString(_ column: Key) throws -> String? {
        let value = try value(column)
        if value.isNull { return nil }
        guard let string = value.stringValue else { throw failure(column, "text") }
        return string
    }

    private func failure(_ column: Key, _ expected: String) -> RowDecodingError {
        RowDecodingError(column: columnName(column), expected: expected)
    }
}

extension DatabaseRow: RowValues {
    public func value(_ key: String) -> DatabaseValue { self[key] }
    public func columnName(_ key: String) -> String { key }
}

extension Database {
    /// Runs a query expected to return at most one row.
    /// - Returns: the first row, or `nil` when there is none.
    public func queryFirst(_ sql: String, _ binds: [DatabaseValue] = []) async throws -> DatabaseRow? {
        try await query(sql, binds).first
    }

    /// Checks the database answers (`SELECT 1`), for health checks.
    public func ping() async throws {
        _ = try await query("SELECT 1 AS ok", [])
    }
}
