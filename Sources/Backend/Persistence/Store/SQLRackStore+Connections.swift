import RackPlanning

extension SQLRackStore {
    public func connections(filter: ConnectionFilter, page: Page) async throws -> [Connection] {
        var clause = WhereClause()
        if let rackID = filter.rackID {
            clause.add(
                """
                (from_device_id IN (SELECT device_id FROM rack_positions WHERE rack_id = ?) \
                OR to_device_id IN (SELECT device_id FROM rack_positions WHERE rack_id = ?))
                """, DatabaseValue(rackID), DatabaseValue(rackID))
        }
        if let id = filter.fromDeviceID { clause.add("from_device_id = ?", DatabaseValue(id)) }
        if let id = filter.toDeviceID { clause.add("to_device_id = ?", DatabaseValue(id)) }
        let rows = try await database.query(
            "SELECT * FROM connections" + clause.sql + " ORDER BY id" + page.sql, clause.binds + page.binds)
        return try await embedDevices(in: try decode(rows, StoreRows.connection))
    }

    public func connection(id: Int) async throws -> Connection {
        let rows = try await database.query("SELECT * FROM connections WHERE id = ?", [DatabaseValue(id)])
        let connection = try decodeOne(rows, notFound: "Connection \(id) not found", StoreRows.connection)
        return try await embedDevices(in: [connection])[0]
    }

    public func createConnection(_ connection: Connection) async throws -> Connection {
        do {
            return try await atomically { store in
                let binds = Self.connectionBinds(connection)
                let rows = try await store.database.query(
                    "INSERT INTO connections (\(Self.connectionColumns)) VALUES "
                        + Self.placeholders(binds.count) + " RETURNING *",
                    binds)
                let created = try store.decodeOne(rows, notFound: "Connection not created", StoreRows.connection)
                return try await store.embedDevices(in: [created])[0]
            }
        } catch let error as StoreError where error == .invalidReference {
            throw await explainConnectionReference(error, connection)
        }
    }

    public func updateConnection(_ connection: Connection) async throws -> Connection {
        do {
            return try await atomically { store in
                let assignments = Self.assignments(Self.connectionColumns)
                let rows = try await store.database.query(
                    "UPDATE connections SET \(assignments) WHERE id = ? RETURNING *",
                    Self.connectionBinds(connection) + [DatabaseValue(connection.id)])
                let updated = try store.decodeOne(
                    rows, notFound: "Connection \(connection.id) not found", StoreRows.connection)
                return try await store.embedDevices(in: [updated])[0]
            }
        } catch let error as StoreError where error == .invalidReference {
            throw await explainConnectionReference(error, connection)
        }
    }

    public func deleteConnection(id: Int) async throws {
        let deleted = try await database.execute("DELETE FROM connections WHERE id = ?", [DatabaseValue(id)])
        if deleted == 0 { throw StoreError.notFound("Connection \(id) not found") }
    }

    private func explainConnectionReference(_ error: StoreError, _ connection: Connection) async -> StoreError {
        await explainMissingReference(
            error, [("devices", connection.fromDeviceID, "Device"), ("devices", connection.toDeviceID, "Device")])
    }

    /// The connections with both end devices embedded.
    private func embedDevices(in connections: [Connection]) async throws -> [Connection] {
        guard !connections.isEmpty else { return [] }
        let devices = try await devicesByID(connections.flatMap { [$0.fromDeviceID, $0.toDeviceID] })
        return connections.map { connection in
            var connection = connection
            connection.fromDevice = devices[connection.fromDeviceID]
            connection.toDevice = devices[connection.toDeviceID]
            return connection
        }
    }

    private static let connectionColumns =
        "from_device_id, to_device_id, from_port, to_port, cable_type, cable_length_m, routing_path, notes"

    private static func connectionBinds(_ connection: Connection) -> [DatabaseValue] {
        [
            DatabaseValue(connection.fromDeviceID), DatabaseValue(connection.toDeviceID),
            DatabaseValue(connection.fromPort), DatabaseValue(connection.toPort), .text(connection.cableType.rawValue),
            DatabaseValue(connection.cableLengthM), .text(connection.routingPath.rawValue),
            DatabaseValue(connection.notes),
        ]
    }
}
