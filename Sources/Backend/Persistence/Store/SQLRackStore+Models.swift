import RackPlanning

extension SQLRackStore {
    /// A model's columns with its brand and device-type summaries and its `device_count`.
    static let modelSelect = """
        SELECT m.*, b.name AS brand_name, b.slug AS brand_slug, b.logo_url AS brand_logo_url, \
        t.name AS type_name, t.slug AS type_slug, t.icon AS type_icon, t.color AS type_color, \
        (SELECT COUNT(*) FROM devices d WHERE d.model_id = m.id) AS device_count \
        FROM models m JOIN brands b ON b.id = m.brand_id JOIN device_types t ON t.id = m.device_type_id
        """

    public func models(filter: ModelFilter, page: Page) async throws -> [CatalogModel] {
        var clause = WhereClause()
        if let id = filter.brandID { clause.add("m.brand_id = ?", DatabaseValue(id)) }
        if let id = filter.deviceTypeID { clause.add("m.device_type_id = ?", DatabaseValue(id)) }
        if let search = filter.search { clause.addContains("m.name", search) }
        let rows = try await database.query(
            Self.modelSelect + clause.sql + " ORDER BY m.id" + page.sql, clause.binds + page.binds)
        return try decode(rows, StoreRows.model)
    }

    public func model(id: Int) async throws -> CatalogModel {
        let rows = try await database.query(Self.modelSelect + " WHERE m.id = ?", [DatabaseValue(id)])
        return try decodeOne(rows, notFound: "Model \(id) not found", StoreRows.model)
    }

    public func searchModels(_ query: String, limit: Int) async throws -> [CatalogModel] {
        var clause = WhereClause()
        clause.addContains("m.name", query)
        let rows = try await database.query(
            Self.modelSelect + clause.sql + " ORDER BY m.id LIMIT ?", clause.binds + [DatabaseValue(max(0, limit))])
        return try decode(rows, StoreRows.model)
    }

    public func createModel(_ model: CatalogModel) async throws -> CatalogModel {
        do {
            return try await atomically { store in
                let binds = Self.modelBinds(model) + [store.now()]
                let rows = try await store.database.query(
                    "INSERT INTO models (\(Self.modelColumns), last_updated) VALUES "
                        + Self.placeholders(binds.count) + " RETURNING id",
                    binds)
                guard let id = rows.first?["id"].intValue else { throw StoreError.failed("The model was not created") }
                return try await store.model(id: id)
            }
        } catch let error as StoreError where error == .invalidReference {
            throw await explainModelReference(error, model)
        }
    }

    public func updateModel(_ model: CatalogModel) async throws -> CatalogModel {
        do {
            return try await atomically { store in
                let assignments = Self.assignments(Self.modelColumns)
                let updated = try await store.database.execute(
                    "UPDATE models SET \(assignments), last_updated = ? WHERE id = ?",
                    Self.modelBinds(model) + [store.now(), DatabaseValue(model.id)])
                if updated == 0 { throw StoreError.notFound("Model \(model.id) not found") }
                try await store.touchRacks(holdingDevicesWhere: "d.model_id = ?", [DatabaseValue(model.id)])
                return try await store.model(id: model.id)
            }
        } catch let error as StoreError where error == .invalidReference {
            throw await explainModelReference(error, model)
        }
    }

    public func deleteModel(id: Int) async throws {
        do {
            let deleted = try await database.execute("DELETE FROM models WHERE id = ?", [DatabaseValue(id)])
            if deleted == 0 { throw StoreError.notFound("Model \(id) not found") }
        } catch let error as StoreError where error == .invalidReference {
            let count = try? await database.queryFirst(
                "SELECT COUNT(*) AS n FROM devices WHERE model_id = ?", [DatabaseValue(id)])?.int("n")
            throw StoreError.conflict("Model \(id) is used by \(count ?? 1) device(s)", underlying: error)
        }
    }

    private func explainModelReference(_ error: StoreError, _ model: CatalogModel) async -> StoreError {
        await explainMissingReference(
            error, [("brands", model.brandID, "Brand"), ("device_types", model.deviceTypeID, "Device type")])
    }

    private static let modelColumns = """
        brand_id, device_type_id, name, variant, description, release_date, end_of_life, height_u, width_type, \
        depth_mm, weight_kg, power_watts, heat_output_btu, airflow_pattern, max_operating_temp_c, typical_ports, \
        mounting_type, datasheet_url, image_url, source, confidence, fetched_at
        """

    private static func modelBinds(_ model: CatalogModel) -> [DatabaseValue] {
        [
            DatabaseValue(model.brandID), DatabaseValue(model.deviceTypeID), .text(model.name),
            DatabaseValue(model.variant), DatabaseValue(model.description), DatabaseValue(model.releaseDate),
            DatabaseValue(model.endOfLife), DatabaseValue(model.heightU), DatabaseValue(model.widthType),
            DatabaseValue(model.depthMM), DatabaseValue(model.weightKG), DatabaseValue(model.powerWatts),
            DatabaseValue(model.heatOutputBTU), DatabaseValue(model.airflowPattern),
            DatabaseValue(model.maxOperatingTempC), StoreRows.portsText(model.typicalPorts),
            DatabaseValue(model.mountingType), DatabaseValue(model.datasheetURL), DatabaseValue(model.imageURL),
            DatabaseValue(model.source), DatabaseValue(model.confidence), DatabaseValue(model.fetchedAt),
        ]
    }
}
