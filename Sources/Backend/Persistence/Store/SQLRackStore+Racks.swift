import RackPlanning

extension SQLRackStore {
    public func racks(page: Page) async throws -> [Rack] {
        let rows = try await database.query("SELECT * FROM racks ORDER BY id" + page.sql, page.binds)
        return try decode(rows, StoreRows.rack)
    }

    public func rack(id: Int) async throws -> Rack {
        let rows = try await database.query("SELECT * FROM racks WHERE id = ?", [DatabaseValue(id)])
        return try decodeOne(rows, notFound: "Rack \(id) not found", StoreRows.rack)
    }

    public func lockRack(id: Int) async throws -> Rack {
        let rows = try await database.query(
            "SELECT * FROM racks WHERE id = ?" + dialect.forUpdateSuffix, [DatabaseValue(id)])
        return try decodeOne(rows, notFound: "Rack \(id) not found", StoreRows.rack)
    }

    public func createRack(_ rack: Rack) async throws -> Rack {
        let now = now()
        let binds = Self.rackBinds(rack) + [now, now]
        let rows = try await database.query(
            "INSERT INTO racks (\(Self.rackColumns), created_at, updated_at) VALUES "
                + Self.placeholders(binds.count) + " RETURNING *",
            binds)
        return try decodeOne(rows, notFound: "Rack not created", StoreRows.rack)
    }

    public func updateRack(_ rack: Rack) async throws -> Rack {
        let assignments = Self.assignments(Self.rackColumns)
        let rows = try await database.query(
            "UPDATE racks SET \(assignments), updated_at = ? WHERE id = ? RETURNING *",
            Self.rackBinds(rack) + [now(), DatabaseValue(rack.id)])
        return try decodeOne(rows, notFound: "Rack \(rack.id) not found", StoreRows.rack)
    }

    public func deleteRack(id: Int) async throws {
        let deleted = try await database.execute("DELETE FROM racks WHERE id = ?", [DatabaseValue(id)])
        if deleted == 0 { throw StoreError.notFound("Rack \(id) not found") }
    }

    /// One statement (``LayoutQuery``): the rack, its positions and their devices come from one
    /// snapshot, so a cache keyed by the rack's `updated_at` never holds a layout older than its key.
    public func layout(rackID: Int) async throws -> RackLayout {
        let decoded: (rack: Rack, positions: [RackPosition])?
        do {
            decoded = try await database.query(LayoutQuery.self, [DatabaseValue(rackID)])
        } catch let error as RowDecodingError {
            throw StoreError.failed("Stored data could not be read", underlying: error)
        }
        guard let decoded else { throw StoreError.notFound("Rack \(rackID) not found") }
        return RackLayout(rack: decoded.rack, positions: decoded.positions)
    }

    private static let rackColumns = """
        name, location, total_height_u, width_inches, depth_mm, max_weight_kg, max_power_watts, \
        cooling_type, cooling_capacity_btu, ambient_temp_c, max_inlet_temp_c, airflow_cfm
        """

    private static func rackBinds(_ rack: Rack) -> [DatabaseValue] {
        [
            .text(rack.name), DatabaseValue(rack.location), DatabaseValue(rack.totalHeightU),
            .text(rack.widthInches.rawValue), .real(rack.depthMM), .real(rack.maxWeightKG), .real(rack.maxPowerWatts),
            .text(rack.coolingType), DatabaseValue(rack.coolingCapacityBTU), .real(rack.ambientTempC),
            .real(rack.maxInletTempC), DatabaseValue(rack.airflowCFM),
        ]
    }
}
