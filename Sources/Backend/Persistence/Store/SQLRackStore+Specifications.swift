import RackPlanning

extension SQLRackStore {
    public func specifications(filter: SpecificationFilter, page: Page) async throws -> [DeviceSpecification] {
        var clause = WhereClause()
        if let brand = filter.brand { clause.addContains("brand", brand) }
        if let model = filter.model { clause.addContains("model", model) }
        if let width = filter.widthType { clause.add("width_type = ?", .text(width.rawValue)) }
        if let source = filter.source { clause.add("source = ?", .text(source.rawValue)) }
        let rows = try await database.query(
            "SELECT * FROM device_specifications" + clause.sql + " ORDER BY id" + page.sql, clause.binds + page.binds)
        return try decode(rows, StoreRows.specification)
    }

    public func specification(id: Int) async throws -> DeviceSpecification {
        let rows = try await database.query("SELECT * FROM device_specifications WHERE id = ?", [DatabaseValue(id)])
        return try decodeOne(rows, notFound: "Device specification \(id) not found", StoreRows.specification)
    }

    public func specification(brand: String, model: String, variant: String?) async throws -> DeviceSpecification? {
        let rows = try await database.query(
            "SELECT * FROM device_specifications WHERE brand = ? AND model = ? AND COALESCE(variant, '') = ?",
            [.text(brand), .text(model), .text(variant ?? "")])
        return try decode(rows, StoreRows.specification).first
    }

    public func searchSpecifications(_ query: String, limit: Int) async throws -> [DeviceSpecification] {
        let pattern = DatabaseValue.text(WhereClause.containsPattern(query))
        let rows = try await database.query(
            """
            SELECT * FROM device_specifications \
            WHERE LOWER(brand) LIKE ? ESCAPE '\\' OR LOWER(model) LIKE ? ESCAPE '\\' ORDER BY id LIMIT ?
            """,
            [pattern, pattern, DatabaseValue(max(0, limit))])
        return try decode(rows, StoreRows.specification)
    }

    public func matchSpecifications(brand: String, model: String, limit: Int) async throws -> [DeviceSpecification] {
        var clause = WhereClause()
        clause.addContains("brand", brand)
        clause.addContains("model", model)
        let rows = try await database.query(
            "SELECT * FROM device_specifications" + clause.sql + " ORDER BY id LIMIT ?",
            clause.binds + [DatabaseValue(max(0, limit))])
        return try decode(rows, StoreRows.specification)
    }

    public func createSpecification(_ specification: DeviceSpecification) async throws -> DeviceSpecification {
        let binds = Self.specificationBinds(specification.fillingHeatOutput()) + [now()]
        let rows = try await database.query(
            "INSERT INTO device_specifications (\(Self.specificationColumns), last_updated) VALUES "
                + Self.placeholders(binds.count) + " RETURNING *",
            binds)
        return try decodeOne(rows, notFound: "Device specification not created", StoreRows.specification)
    }

    public func updateSpecification(_ specification: DeviceSpecification) async throws -> DeviceSpecification {
        try await atomically { store in
            let assignments = Self.assignments(Self.specificationColumns)
            let rows = try await store.database.query(
                "UPDATE device_specifications SET \(assignments), last_updated = ? "
                    + "WHERE id = ? RETURNING *",
                Self.specificationBinds(specification) + [store.now(), DatabaseValue(specification.id)])
            let updated = try store.decodeOne(
                rows, notFound: "Device specification \(specification.id) not found", StoreRows.specification)
            try await store.touchRacks(holdingDevicesWhere: "d.specification_id = ?", [DatabaseValue(specification.id)])
            return updated
        }
    }

    public func deleteSpecification(id: Int) async throws {
        do {
            let deleted = try await database.execute(
                "DELETE FROM device_specifications WHERE id = ?", [DatabaseValue(id)])
            if deleted == 0 { throw StoreError.notFound("Device specification \(id) not found") }
        } catch let error as StoreError where error == .invalidReference {
            let count = try? await database.queryFirst(
                "SELECT COUNT(*) AS n FROM devices WHERE specification_id = ?", [DatabaseValue(id)])?.int("n")
            throw StoreError.conflict(
                "Device specification \(id) is used by \(count ?? 1) device(s)", underlying: error)
        }
    }

    private static let specificationColumns = """
        brand, model, variant, height_u, width_type, depth_mm, weight_kg, power_watts, heat_output_btu, \
        airflow_pattern, max_operating_temp_c, typical_ports, mounting_type, source, source_url, confidence, \
        fetched_at
        """

    private static func specificationBinds(_ spec: DeviceSpecification) -> [DatabaseValue] {
        [
            .text(spec.brand), .text(spec.model), DatabaseValue(spec.variant), .real(spec.heightU),
            DatabaseValue(spec.widthType?.rawValue), DatabaseValue(spec.depthMM), DatabaseValue(spec.weightKG),
            DatabaseValue(spec.powerWatts), DatabaseValue(spec.heatOutputBTU), .text(spec.airflowPattern.rawValue),
            DatabaseValue(spec.maxOperatingTempC), StoreRows.portsText(spec.typicalPorts),
            DatabaseValue(spec.mountingType), .text(spec.source.rawValue), DatabaseValue(spec.sourceURL),
            .text(spec.confidence.rawValue), DatabaseValue(spec.fetchedAt),
        ]
    }
}
