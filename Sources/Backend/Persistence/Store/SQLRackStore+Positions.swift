import RackPlanning

extension SQLRackStore {
    public func position(id: Int) async throws -> RackPosition {
        let rows = try await database.query("SELECT * FROM rack_positions WHERE id = ?", [DatabaseValue(id)])
        let position = try decodeOne(rows, notFound: "Position \(id) not found", StoreRows.position)
        return try await embedDevices(in: [position])[0]
    }

    public func position(deviceID: Int) async throws -> RackPosition? {
        let rows = try await database.query(
            "SELECT * FROM rack_positions WHERE device_id = ?", [DatabaseValue(deviceID)])
        guard let position = try decode(rows, StoreRows.position).first else { return nil }
        return try await embedDevices(in: [position]).first
    }

    public func createPosition(_ position: RackPosition) async throws -> RackPosition {
        do {
            return try await atomically { store in
                let rows = try await store.database.query(
                    "INSERT INTO rack_positions (rack_id, device_id, start_u, locked) VALUES (?, ?, ?, ?) RETURNING *",
                    [
                        DatabaseValue(position.rackID), DatabaseValue(position.deviceID),
                        DatabaseValue(position.startU), .bool(position.locked),
                    ])
                let created = try store.decodeOne(rows, notFound: "Position not created", StoreRows.position)
                try await store.touchRacks(where: "id = ?", [DatabaseValue(position.rackID)])
                return try await store.embedDevices(in: [created])[0]
            }
        } catch let error as StoreError where error == .invalidReference {
            throw await explainMissingReference(
                error, [("racks", position.rackID, "Rack"), ("devices", position.deviceID, "Device")])
        } catch let error as StoreError where error == .conflict {
            guard let existing = try? await self.position(deviceID: position.deviceID) else { throw error }
            throw StoreError.conflict(
                "Device \(position.deviceID) is already placed in rack \(existing.rackID) at U\(existing.startU)",
                underlying: error)
        }
    }

    public func updatePosition(_ position: RackPosition) async throws -> RackPosition {
        guard let id = position.id else { throw StoreError.notFound("Position has no id") }
        do {
            return try await atomically { store in
                let before = try await store.database.query(
                    "SELECT rack_id FROM rack_positions WHERE id = ?" + store.dialect.forUpdateSuffix,
                    [DatabaseValue(id)])
                guard let oldRackID = before.first?["rack_id"].intValue else {
                    throw StoreError.notFound("Position \(id) not found")
                }
                let rows = try await store.database.query(
                    "UPDATE rack_positions SET rack_id = ?, start_u = ?, locked = ? WHERE id = ? RETURNING *",
                    [
                        DatabaseValue(position.rackID), DatabaseValue(position.startU), .bool(position.locked),
                        DatabaseValue(id),
                    ])
                let updated = try store.decodeOne(rows, notFound: "Position \(id) not found", StoreRows.position)
                try await store.touchRacks(
                    where: "id IN (?, ?)", [DatabaseValue(oldRackID), DatabaseValue(position.rackID)])
                return try await store.embedDevices(in: [updated])[0]
            }
        } catch let error as StoreError where error == .invalidReference {
            throw await explainMissingReference(error, [("racks", position.rackID, "Rack")])
        }
    }

    public func deletePosition(id: Int, rackID: Int) async throws {
        try await atomically { store in
            let deleted = try await store.database.execute(
                "DELETE FROM rack_positions WHERE id = ? AND rack_id = ?", [DatabaseValue(id), DatabaseValue(rackID)])
            if deleted == 0 { throw StoreError.notFound("Position \(id) not found in rack \(rackID)") }
            try await store.touchRacks(where: "id = ?", [DatabaseValue(rackID)])
        }
    }

    /// The positions with their devices (and the devices' specifications or models) embedded.
    func embedDevices(in positions: [RackPosition]) async throws -> [RackPosition] {
        guard !positions.isEmpty else { return [] }
        let devices = try await devicesByID(positions.map(\.deviceID))
        return positions.map { position in
            var position = position
            position.device = devices[position.deviceID]
            return position
        }
    }
}
