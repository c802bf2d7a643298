import RackPlanning

extension SQLRackStore {
    public func devices(filter: DeviceFilter, page: Page) async throws -> [Device] {
        var clause = WhereClause()
        if let id = filter.specificationID { clause.add("specification_id = ?", DatabaseValue(id)) }
        if let id = filter.modelID { clause.add("model_id = ?", DatabaseValue(id)) }
        if let access = filter.accessFrequency { clause.add("access_frequency = ?", .text(access.rawValue)) }
        let rows = try await database.query(
            "SELECT * FROM devices" + clause.sql + " ORDER BY id" + page.sql, clause.binds + page.binds)
        return try await embedReferences(in: try decode(rows, StoreRows.device))
    }

    public func device(id: Int) async throws -> Device {
        guard let device = try await devicesByID([id])[id] else { throw StoreError.notFound("Device \(id) not found") }
        return device
    }

    public func devices(ids: [Int]) async throws -> [Device] {
        try await devicesByID(ids).values.sorted { $0.id < $1.id }
    }

    public func createDevice(_ device: Device) async throws -> Device {
        do {
            return try await atomically { store in try await store.insertDevice(device) }
        } catch let error as StoreError where error == .invalidReference {
            throw await explainDeviceReference(error, device)
        }
    }

    public func createDevices(_ devices: [Device]) async throws -> [Device] {
        do {
            return try await atomically { store in
                var created: [Device] = []
                for device in devices { created.append(try await store.insertDevice(device)) }
                return created
            }
        } catch let error as StoreError where error == .invalidReference {
            guard let first = devices.first else { throw error }
            throw await explainDeviceReference(error, first)
        }
    }

    public func updateDevice(_ device: Device) async throws -> Device {
        do {
            return try await atomically { store in
                let updated = try await store.database.execute(
                    """
                    UPDATE devices SET custom_name = ?, specification_id = ?, model_id = ?, serial_number = ?, \
                    access_frequency = ?, notes = ? WHERE id = ?
                    """,
                    Self.deviceBinds(device) + [DatabaseValue(device.id)])
                if updated == 0 { throw StoreError.notFound("Device \(device.id) not found") }
                try await store.touchRacks(holdingDevicesWhere: "d.id = ?", [DatabaseValue(device.id)])
                return try await store.device(id: device.id)
            }
        } catch let error as StoreError where error == .invalidReference {
            throw await explainDeviceReference(error, device)
        }
    }

    public func deleteDevice(id: Int) async throws {
        try await atomically { store in
            try await store.touchRacks(holdingDevicesWhere: "d.id = ?", [DatabaseValue(id)])
            let deleted = try await store.database.execute("DELETE FROM devices WHERE id = ?", [DatabaseValue(id)])
            if deleted == 0 { throw StoreError.notFound("Device \(id) not found") }
        }
    }

    // MARK: Internals

    private func insertDevice(_ device: Device) async throws -> Device {
        let rows = try await database.query(
            """
            INSERT INTO devices (custom_name, specification_id, model_id, serial_number, access_frequency, notes)
            VALUES (?, ?, ?, ?, ?, ?) RETURNING id
            """,
            Self.deviceBinds(device))
        guard let id = rows.first?["id"].intValue else { throw StoreError.failed("The device was not created") }
        return try await self.device(id: id)
    }

    private func explainDeviceReference(_ error: StoreError, _ device: Device) async -> StoreError {
        await explainMissingReference(
            error,
            [
                ("device_specifications", device.specificationID, "Device specification"),
                ("models", device.modelID, "Model"),
            ])
    }

    private static func deviceBinds(_ device: Device) -> [DatabaseValue] {
        [
            DatabaseValue(device.customName), DatabaseValue(device.specificationID), DatabaseValue(device.modelID),
            DatabaseValue(device.serialNumber), .text(device.accessFrequency.rawValue), DatabaseValue(device.notes),
        ]
    }

    /// The devices with these ids, each embedding its specification or catalog model.
    func devicesByID(_ ids: [Int]) async throws -> [Int: Device] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await queryIn("SELECT * FROM devices WHERE id IN", ids: ids)
        let devices = try await embedReferences(in: try decode(rows, StoreRows.device))
        return Dictionary(devices.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// `devices` with their specifications and catalog models embedded (two queries in all).
    func embedReferences(in devices: [Device]) async throws -> [Device] {
        let specificationIDs = devices.compactMap(\.specificationID)
        let modelIDs = devices.compactMap(\.modelID)
        var specifications: [Int: DeviceSpecification] = [:]
        if !specificationIDs.isEmpty {
            let rows = try await queryIn("SELECT * FROM device_specifications WHERE id IN", ids: specificationIDs)
            for specification in try decode(rows, StoreRows.specification) {
                specifications[specification.id] = specification
            }
        }
        var models: [Int: CatalogModel] = [:]
        if !modelIDs.isEmpty {
            let rows = try await queryIn(Self.modelSelect + " WHERE m.id IN", ids: modelIDs)
            for model in try decode(rows, StoreRows.model) { models[model.id] = model }
        }
        return devices.map { device in
            var device = device
            device.specification = device.specificationID.flatMap { specifications[$0] }
            device.catalogModel = device.modelID.flatMap { models[$0] }
            return device
        }
    }
}
