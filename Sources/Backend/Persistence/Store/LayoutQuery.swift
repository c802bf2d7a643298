import RackPlanning

/// A rack's layout in one statement: the rack, its positions in start order, each position's
/// device and that device's specification or catalog model (with the model's brand and device
/// type summaries and its device count).
///
/// Five statements did this before (rack, positions, devices, specifications, models), each a
/// round trip and a pool lease; an uncached layout read is now one. The rack is left-joined to
/// its positions, so a rack without positions is one row of `NULL` positions, and an unknown rack
/// is no row. Every column is aliased `<table prefix>.<column>` (`"p.start_u"`), and each row is
/// split back into one row per table, so the same ``StoreRows`` decoders read the same values a
/// `SELECT *` of each table returned: the API's bytes do not change.
enum LayoutQuery: PreparedRead {
    static let name = "homerack_layout"

    /// The statement; its one bind is the rack id. Prepared on PostgreSQL, where planning this
    /// seven-table join took longer than running it (0.6 to 2 ms against 0.2 ms).
    static let sql: String = {
        func columns(_ table: TableDefinition, _ alias: String) -> [String] {
            table.columnNames.map { "\(alias).\($0) AS \"\(alias).\($0)\"" }
        }
        let select =
            columns(TableCatalog.racks, "r") + columns(TableCatalog.rackPositions, "p")
            + columns(TableCatalog.devices, "d") + columns(TableCatalog.deviceSpecifications, "s")
            + columns(TableCatalog.models, "m") + [
                // The columns SQLRackStore.modelSelect adds to a model.
                "b.name AS \"m.brand_name\"", "b.slug AS \"m.brand_slug\"", "b.logo_url AS \"m.brand_logo_url\"",
                "t.name AS \"m.type_name\"", "t.slug AS \"m.type_slug\"", "t.icon AS \"m.type_icon\"",
                "t.color AS \"m.type_color\"",
                "(SELECT COUNT(*) FROM devices dc WHERE dc.model_id = m.id) AS \"m.device_count\"",
            ]
        return """
            SELECT \(select.joined(separator: ", ")) \
            FROM racks r \
            LEFT JOIN rack_positions p ON p.rack_id = r.id \
            LEFT JOIN devices d ON d.id = p.device_id \
            LEFT JOIN device_specifications s ON s.id = d.specification_id \
            LEFT JOIN models m ON m.id = d.model_id \
            LEFT JOIN brands b ON b.id = m.brand_id \
            LEFT JOIN device_types t ON t.id = m.device_type_id \
            WHERE r.id = ? \
            ORDER BY p.start_u, p.id
            """
    }()

    /// The rack and its positions (devices embedded) from the statement's rows.
    /// - Parameter rows: what ``sql`` returned.
    /// - Returns: `nil` when there is no row (no such rack).
    /// - Throws: ``RowDecodingError`` when a stored value cannot be read.
    static func decode(_ rows: [DatabaseRow]) throws -> (rack: Rack, positions: [RackPosition])? {
        guard let first = rows.first else { return nil }
        let rack = try StoreRows.rack(first.table(.rack))
        var positions: [RackPosition] = []
        positions.reserveCapacity(rows.count)
        // A table's columns are split out only when its row is there (its id is not NULL).
        for row in rows {
            // The rack's one row when it has no position.
            guard !row["p.id"].isNull else { continue }
            var position = try StoreRows.position(row.table(.position))
            if !row["d.id"].isNull {
                var device = try StoreRows.device(row.table(.device))
                if !row["s.id"].isNull {
                    device.specification = try StoreRows.specification(row.table(.specification))
                }
                if !row["m.id"].isNull {
                    device.catalogModel = try StoreRows.model(row.table(.model))
                }
                position.device = device
            }
            positions.append(position)
        }
        return (rack, positions)
    }
}

/// One table's columns in ``LayoutQuery/sql``: their aliases there and their own names.
private struct AliasedColumns: Sendable {
    let columns: [(aliased: String, name: String)]

    init(_ alias: String, _ names: [String]) {
        columns = names.map { ("\(alias).\($0)", $0) }
    }

    static let rack = AliasedColumns("r", TableCatalog.racks.columnNames)
    static let position = AliasedColumns("p", TableCatalog.rackPositions.columnNames)
    static let device = AliasedColumns("d", TableCatalog.devices.columnNames)
    static let specification = AliasedColumns("s", TableCatalog.deviceSpecifications.columnNames)
    static let model = AliasedColumns(
        "m",
        TableCatalog.models.columnNames + [
            "brand_name", "brand_slug", "brand_logo_url", "type_name", "type_slug", "type_icon", "type_color",
            "device_count",
        ])
}

extension DatabaseRow {
    /// One table's columns of a ``LayoutQuery`` row, named as a `SELECT *` of that table names them.
    fileprivate func table(_ table: AliasedColumns) -> DatabaseRow {
        var columns: [String: DatabaseValue] = [:]
        columns.reserveCapacity(table.columns.count)
        for column in table.columns { columns[column.name] = self[column.aliased] }
        return DatabaseRow(values: columns)
    }
}
