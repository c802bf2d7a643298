import RackPlanning

extension SQLRackStore {
    static let brandSelect =
        "SELECT b.*, (SELECT COUNT(*) FROM models m WHERE m.brand_id = b.id) AS model_count FROM brands b"

    public func brands(filter: BrandFilter, page: Page) async throws -> [Brand] {
        var clause = WhereClause()
        if let search = filter.search { clause.addContains("b.name", search) }
        if let typeID = filter.deviceTypeID {
            clause.add(
                "EXISTS (SELECT 1 FROM models m WHERE m.brand_id = b.id AND m.device_type_id = ?)",
                DatabaseValue(typeID))
        }
        if let slug = filter.deviceTypeSlug {
            clause.add(
                """
                EXISTS (SELECT 1 FROM models m JOIN device_types t ON t.id = m.device_type_id \
                WHERE m.brand_id = b.id AND t.slug = ?)
                """, .text(slug))
        }
        let rows = try await database.query(
            Self.brandSelect + clause.sql + " ORDER BY b.id" + page.sql, clause.binds + page.binds)
        return try decode(rows, StoreRows.brand)
    }

    public func brand(id: Int) async throws -> Brand {
        let rows = try await database.query(Self.brandSelect + " WHERE b.id = ?", [DatabaseValue(id)])
        return try decodeOne(rows, notFound: "Brand \(id) not found", StoreRows.brand)
    }

    public func lockBrand(id: Int) async throws {
        let sql =
            dialect == .postgres
            ? "SELECT id FROM brands WHERE id = ? FOR UPDATE" : "SELECT id FROM brands WHERE id = ?"
        guard try await !database.query(sql, [DatabaseValue(id)]).isEmpty else {
            throw StoreError.notFound("Brand \(id) not found")
        }
    }

    public func searchBrands(_ query: String, limit: Int) async throws -> [Brand] {
        var clause = WhereClause()
        clause.addContains("b.name", query)
        let rows = try await database.query(
            Self.brandSelect + clause.sql + " ORDER BY b.id LIMIT ?", clause.binds + [DatabaseValue(max(0, limit))])
        return try decode(rows, StoreRows.brand)
    }

    public func createBrand(_ brand: Brand) async throws -> Brand {
        let now = now()
        let binds = Self.brandBinds(brand) + [now, now]
        let rows = try await database.query(
            "INSERT INTO brands (\(Self.brandColumns), created_at, updated_at) VALUES "
                + Self.placeholders(binds.count) + " RETURNING *",
            binds)
        return try decodeOne(rows, notFound: "Brand not created", StoreRows.brand)
    }

    public func updateBrand(_ brand: Brand) async throws -> Brand {
        try await atomically { store in
            let assignments = Self.assignments(Self.brandColumns)
            let updated = try await store.database.execute(
                "UPDATE brands SET \(assignments), updated_at = ? WHERE id = ?",
                Self.brandBinds(brand) + [store.now(), DatabaseValue(brand.id)])
            if updated == 0 { throw StoreError.notFound("Brand \(brand.id) not found") }
            return try await store.brand(id: brand.id)
        }
    }

    public func deleteBrand(id: Int) async throws {
        do {
            let deleted = try await database.execute("DELETE FROM brands WHERE id = ?", [DatabaseValue(id)])
            if deleted == 0 { throw StoreError.notFound("Brand \(id) not found") }
        } catch let error as StoreError where error == .invalidReference {
            let count = try? await database.queryFirst(
                "SELECT COUNT(*) AS n FROM models WHERE brand_id = ?", [DatabaseValue(id)])?.int("n")
            throw StoreError.conflict("Brand \(id) is used by \(count ?? 1) model(s)", underlying: error)
        }
    }

    private static let brandColumns = """
        name, slug, website, support_url, logo_url, description, founded_year, headquarters, last_fetched_at, \
        fetch_confidence, fetch_source
        """

    private static func brandBinds(_ brand: Brand) -> [DatabaseValue] {
        [
            .text(brand.name), .text(brand.slug), DatabaseValue(brand.website), DatabaseValue(brand.supportURL),
            DatabaseValue(brand.logoURL), DatabaseValue(brand.description), DatabaseValue(brand.foundedYear),
            DatabaseValue(brand.headquarters), DatabaseValue(brand.lastFetchedAt),
            DatabaseValue(brand.fetchConfidence), DatabaseValue(brand.fetchSource),
        ]
    }
}
