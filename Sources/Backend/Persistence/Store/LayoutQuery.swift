import RackPlanning

/// A rack's layout in one statement: the rack, its positions in start order, each position's
/// device and that device's specification or catalog model (with the model's brand and device
/// type summaries and its device count).
///
/// Five statements did this before (rack, positions, devices, specifications, models), each a
/// round trip and a pool lease; an uncached layout read is now one. The rack is left-joined to
/// its positions, so a rack without positions is one row of `NULL` positions, and an unknown rack
/// is no row. Each table's columns come in ``TableCatalog`` order (``Column``), so a row is
/// read by position: no column names, no dictionary per row.
enum LayoutQuery: PreparedRead {
    static let name = "homerack_layout"

    /// Where each table's columns start in a row, in the order ``sql`` selects them.
    private static let rackOffset = 0
    private static let positionOffset = rackOffset + RackColumns.shared.all.count
    private static let deviceOffset = positionOffset + PositionColumns.shared.all.count
    private static let specificationOffset = deviceOffset + DeviceColumns.shared.all.count
    private static let modelOffset = specificationOffset + SpecificationColumns.shared.all.count
    private static let columnCount = modelOffset + ModelColumns.shared.all.count

    /// The statement; its one bind is the rack id. Prepared on PostgreSQL, where planning this
    /// seven-table join took longer than running it (0.6 to 2 ms against 0.2 ms).
    static let sql: String = {
        func columns(_ names: [String], _ alias: String) -> [String] {
            names.map { "\(alias).\($0)" }
        }
        let select =
            columns(RackColumns.shared.all, "r") + columns(PositionColumns.shared.all, "p")
            + columns(DeviceColumns.shared.all, "d") + columns(SpecificationColumns.shared.all, "s")
            + columns(TableCatalog.models.columnNames, "m") + [
                // The columns SQLRackStore.modelSelect adds to a model (ModelColumns names them).
                "b.name", "b.slug", "b.logo_url", "t.name", "t.slug", "t.icon", "t.color",
                "(SELECT COUNT(*) FROM devices dc WHERE dc.model_id = m.id)",
            ]
        precondition(select.count == columnCount, "LayoutQuery selects \(select.count) columns, decodes \(columnCount)")
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

    /// The rack and its positions (devices embedded) from the statement's rows, each table's
    /// columns read by position through the same ``StoreRows`` decoders a `SELECT *` of the table
    /// goes through, so the API's bytes do not change.
    /// - Parameter rows: what ``sql`` returned.
    /// - Returns: `nil` when there is no row (no such rack).
    /// - Throws: ``RowDecodingError`` when a stored value cannot be read.
    static func decode(_ rows: [OrderedRow]) throws -> (rack: Rack, positions: [RackPosition])? {
        guard let first = rows.first else { return nil }
        guard first.count == columnCount else {
            throw RowDecodingError(column: "layout row of \(first.count) columns", expected: "\(columnCount)")
        }
        let rack = try StoreRows.rack(from: TableSlice(row: first, offset: rackOffset))
        var positions: [RackPosition] = []
        positions.reserveCapacity(rows.count)
        // A table's columns are read only when its row is there (its id is not NULL), and the
        // rack's only from the first row: on PostgreSQL a cell is decoded only when read
        // (``PostgresCells``), so the rest of each row costs nothing.
        for row in rows {
            let position = TableSlice(row: row, offset: positionOffset)
            // The rack's one row when it has no position.
            if try position.value(PositionColumns.shared.id).isNull { continue }
            var decoded = try StoreRows.position(from: position)
            let deviceColumns = TableSlice(row: row, offset: deviceOffset)
            if try !deviceColumns.value(DeviceColumns.shared.id).isNull {
                var device = try StoreRows.device(from: deviceColumns)
                let specification = TableSlice(row: row, offset: specificationOffset)
                if try !specification.value(SpecificationColumns.shared.id).isNull {
                    device.specification = try StoreRows.specification(from: specification)
                }
                let model = TableSlice(row: row, offset: modelOffset)
                if try !model.value(ModelColumns.shared.id).isNull {
                    device.catalogModel = try StoreRows.model(from: model)
                }
                decoded.device = device
            }
            positions.append(decoded)
        }
        return (rack, positions)
    }
}
