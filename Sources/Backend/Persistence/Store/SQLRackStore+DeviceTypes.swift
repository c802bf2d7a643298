import RackPlanning

extension SQLRackStore {
    static let deviceTypeSelect =
        "SELECT t.*, (SELECT COUNT(*) FROM models m WHERE m.device_type_id = t.id) AS model_count FROM device_types t"

    public func deviceTypes(page: Page) async throws -> [DeviceType] {
        let rows = try await database.query(Self.deviceTypeSelect + " ORDER BY t.id" + page.sql, page.binds)
        return try decode(rows, StoreRows.deviceType)
    }

    public func deviceType(id: Int) async throws -> DeviceType {
        let rows = try await database.query(Self.deviceTypeSelect + " WHERE t.id = ?", [DatabaseValue(id)])
        return try decodeOne(rows, notFound: "Device type \(id) not found", StoreRows.deviceType)
    }

    public func createDeviceType(_ deviceType: DeviceType) async throws -> DeviceType {
        let now = now()
        let rows = try await database.query(
            """
            INSERT INTO device_types (name, slug, icon, description, color, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *
            """,
            Self.deviceTypeBinds(deviceType) + [now, now])
        return try decodeOne(rows, notFound: "Device type not created", StoreRows.deviceType)
    }

    public func updateDeviceType(_ deviceType: DeviceType) async throws -> DeviceType {
        try await atomically { store in
            let updated = try await store.database.execute(
                "UPDATE device_types SET name = ?, slug = ?, icon = ?, description = ?, color = ?, updated_at = ? "
                    + "WHERE id = ?",
                Self.deviceTypeBinds(deviceType) + [store.now(), DatabaseValue(deviceType.id)])
            if updated == 0 { throw StoreError.notFound("Device type \(deviceType.id) not found") }
            return try await store.deviceType(id: deviceType.id)
        }
    }

    public func deleteDeviceType(id: Int) async throws {
        do {
            let deleted = try await database.execute("DELETE FROM device_types WHERE id = ?", [DatabaseValue(id)])
            if deleted == 0 { throw StoreError.notFound("Device type \(id) not found") }
        } catch let error as StoreError where error == .invalidReference {
            let count = try? await database.queryFirst(
                "SELECT COUNT(*) AS n FROM models WHERE device_type_id = ?", [DatabaseValue(id)])?.int("n")
            throw StoreError.conflict("Device type \(id) is used by \(count ?? 1) model(s)", underlying: error)
        }
    }

    private static func deviceTypeBinds(_ deviceType: DeviceType) -> [DatabaseValue] {
        [
            .text(deviceType.name), .text(deviceType.slug), DatabaseValue(deviceType.icon),
            DatabaseValue(deviceType.description), DatabaseValue(deviceType.color),
        ]
    }
}
