import RackPlanning

/// The read-only cable reports: one connection's check and service loop, a bulk check, and a
/// rack's bill of materials. Each reads the connections and their ends' positions, then hands
/// them to the pure domain (``CableCheck``, ``ServiceLoop``, ``BillOfMaterials``).
struct CableReports: Sendable {
    let store: any RackRepository

    /// `GET /connections/{id}/validate`.
    /// - Throws: 404 for an unknown connection.
    func check(connectionID: Int) async throws -> CableCheck {
        let (connection, ends) = try await connectionWithEnds(connectionID)
        return CableCheck(connection, from: ends[connection.fromDeviceID], to: ends[connection.toDeviceID])
    }

    /// `GET /connections/{id}/service-loop`.
    /// - Throws: 404 for an unknown connection.
    func serviceLoop(connectionID: Int) async throws -> ServiceLoop {
        let (connection, ends) = try await connectionWithEnds(connectionID)
        return ServiceLoop(connection, from: ends[connection.fromDeviceID], to: ends[connection.toDeviceID])
    }

    /// `POST /connections/validate-bulk`: every connection touching `rackID`, or every one.
    /// - Throws: 404 for an unknown rack.
    func checkAll(rackID: Int?) async throws -> BulkCableValidation {
        let connections = try await connectionsTouching(rackID)
        let ends = try await ConnectionEndPositions(of: connections, store: store)
        return BulkCableValidation(rackID: rackID, results: CableCheck.checkAll(connections, positions: ends.all))
    }

    /// `GET /racks/{id}/bom`: the cables of every connection with an end in the rack.
    /// - Throws: 404 for an unknown rack.
    func billOfMaterials(rackID: Int) async throws -> BillOfMaterials {
        let connections = try await connectionsTouching(rackID)
        let ends = try await ConnectionEndPositions(of: connections, store: store)
        return BillOfMaterials(rackID: rackID, connections: connections, positions: ends.all)
    }

    private func connectionWithEnds(_ id: Int) async throws -> (Connection, ConnectionEndPositions) {
        let connection = try await store.connection(id: id)
        return (connection, try await ConnectionEndPositions(of: [connection], store: store))
    }

    /// The connections with either end placed in `rackID` (the rack must exist), or all.
    private func connectionsTouching(_ rackID: Int?) async throws -> [Connection] {
        if let rackID { _ = try await store.rack(id: rackID) }
        return try await store.connections(filter: ConnectionFilter(rackID: rackID), page: .all)
    }
}
