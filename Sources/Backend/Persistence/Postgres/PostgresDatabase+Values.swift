import Foundation
import PostgresNIO

extension PostgresDatabase {
    /// The statement with `$n` placeholders and its binds encoded.
    static func makeQuery(_ sql: String, _ binds: [DatabaseValue]) throws -> PostgresQuery {
        PostgresQuery(unsafeSQL: PostgresPlaceholders.rewrite(sql), binds: bindings(binds))
    }

    /// The binds encoded for PostgreSQL.
    static func bindings(_ binds: [DatabaseValue]) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: binds.count)
        for bind in binds {
            switch bind {
            case .null: bindings.appendNull()
            case .integer(let value): bindings.append(value)
            case .real(let value): bindings.append(value)
            case .text(let value): bindings.append(value)
            case .bool(let value): bindings.append(value)
            }
        }
        return bindings
    }

    /// Every row of a result, by column name.
    static func rows(_ result: PostgresQueryResult) throws -> [DatabaseRow] {
        try result.rows.map(row)
    }

    /// One row, by column name.
    static func row(_ row: PostgresRow) throws -> DatabaseRow {
        var values: [String: DatabaseValue] = [:]
        values.reserveCapacity(row.count)
        for cell in row { values[cell.columnName] = try value(of: cell) }
        return DatabaseRow(values: values)
    }

    /// One cell as a ``DatabaseValue``, by its PostgreSQL type.
    static func value(of cell: PostgresCell) throws -> DatabaseValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8, .oid:
            return .integer(try cell.decode(Int64.self))
        case .float4, .float8:
            return .real(try cell.decode(Double.self))
        case .numeric:
            let decimal = try cell.decode(Decimal.self)
            return .real(NSDecimalNumber(decimal: decimal).doubleValue)
        case .bool:
            return .bool(try cell.decode(Bool.self))
        case .void:
            return .null
        default:
            return .text(try cell.decode(String.self))
        }
    }
}
