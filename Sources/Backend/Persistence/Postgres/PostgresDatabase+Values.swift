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
    ///
    /// Integers, doubles and text in the shapes PostgreSQL sends them are read straight from the
    /// cell's bytes, exactly as PostgresNIO's decoders read them; everything else (and any
    /// malformed cell, so that its error is the driver's) goes through `PostgresCell.decode`,
    /// whose generic path was most of the cost of an uncached layout's cells.
    static func value(of cell: PostgresCell) throws -> DatabaseValue {
        guard let bytes = cell.bytes else { return .null }
        if let value = directValue(bytes, type: cell.dataType, format: cell.format) { return value }
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

    /// The cell's value when its type and format have one obvious reading (PostgresNIO's own
    /// for that pair), `nil` to leave it to the driver's decoders.
    @inline(__always)
    static func directValue(_ bytes: ByteBuffer, type: PostgresDataType, format: PostgresFormat) -> DatabaseValue? {
        let at = bytes.readerIndex
        switch (format, type) {
        case (.binary, .int8):
            guard bytes.readableBytes == 8, let value = bytes.getInteger(at: at, as: Int64.self) else { return nil }
            return .integer(value)
        case (.binary, .int4):
            guard bytes.readableBytes == 4, let value = bytes.getInteger(at: at, as: Int32.self) else { return nil }
            return .integer(Int64(value))
        case (.binary, .int2):
            guard bytes.readableBytes == 2, let value = bytes.getInteger(at: at, as: Int16.self) else { return nil }
            return .integer(Int64(value))
        case (.binary, .float8):
            guard bytes.readableBytes == 8, let bits = bytes.getInteger(at: at, as: UInt64.self) else { return nil }
            return .real(Double(bitPattern: bits))
        case (_, .text), (_, .varchar), (_, .bpchar), (_, .name):
            return .text(String(buffer: bytes))
        default:
            return nil
        }
    }
}
