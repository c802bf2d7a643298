import RackPlanning

/// Creates, updates and deletes connections (`rack-api.md` §2, §3, §7), each in one
/// transaction, and reports which racks the write touched so the route can invalidate their
/// cached results after the commit (``CacheScope/rack(_:)``: the optimizer's cable score reads
/// connections).
///
/// Checks, in order: the body (422), both end devices exist (404 naming each missing one),
/// the ends differ (400). The saved length follows ``ConnectionLengthRule``. The racks are read
/// from the ends' positions *before* the write: a delete leaves nothing to read them from after.
struct ConnectionWriter: Sendable {
    /// A saved connection and the racks holding its ends (before and after, for an update).
    struct Outcome: Sendable {
        var connection: Connection
        var racks: Set<Int>

        /// Invalidates the racks' cached results; nothing when no end is placed.
        func invalidate(in cache: any ResultCache) async {
            guard !racks.isEmpty else { return }
            await cache.invalidate(racks.sorted().map(CacheScope.rack))
        }
    }

    /// Body keys that are the response's embedded devices, never input.
    static let embeddedKeys: Set<String> = ["from_device", "to_device"]

    let store: any RackRepository

    /// `POST /connections`.
    /// - Parameter body: the request body; `from_device_id` and `to_device_id` are required.
    /// - Returns: the created connection (201) and the racks of its ends.
    /// - Throws: ``APIError`` 422 for bad fields, 404 for missing devices, 400 for a self-link.
    func create(body: JSONObject) async throws -> Outcome {
        let connection = try RecordInput.create(
            Connection(id: 0, fromDeviceID: 0, toDeviceID: 0), body: body,
            required: ["from_device_id", "to_device_id"], readOnly: Self.embeddedKeys)
        return try await store.transaction { store in
            try await Self.checkEnds(of: connection, in: store)
            let ends = try await ConnectionEndPositions(of: [connection], store: store)
            var toCreate = connection
            toCreate.cableLengthM = ConnectionLengthRule.forCreate(
                connection, from: ends[connection.fromDeviceID], to: ends[connection.toDeviceID])
            let created = try await store.createConnection(toCreate)
            return Outcome(connection: created, racks: ends.racks(of: created))
        }
    }

    /// `PUT /connections/{id}`: the body over the stored connection.
    /// - Returns: the updated connection and the racks of its old and new ends.
    /// - Throws: 404 for an unknown connection or end device, 422 for bad fields, 400 for a
    ///   self-link.
    func update(id: Int, body: JSONObject) async throws -> Outcome {
        try await store.transaction { store in
            let stored = try await store.connection(id: id)
            var updated = try RecordInput.update(stored, body: body, readOnly: Self.embeddedKeys)
            try await Self.checkEnds(of: updated, in: store)
            let ends = try await ConnectionEndPositions(of: [stored, updated], store: store)
            updated.cableLengthM = ConnectionLengthRule.forUpdate(
                stored: stored, updated: updated,
                input: ConnectionLengthRule.Input(body: body, decodedLengthM: updated.cableLengthM),
                from: ends[updated.fromDeviceID], to: ends[updated.toDeviceID])
            let saved = try await store.updateConnection(updated)
            return Outcome(connection: saved, racks: ends.racks(of: stored).union(ends.racks(of: saved)))
        }
    }

    /// `DELETE /connections/{id}`.
    /// - Returns: the deleted connection (as it was) and the racks of its ends.
    /// - Throws: 404 for an unknown connection.
    func delete(id: Int) async throws -> Outcome {
        try await store.transaction { store in
            let stored = try await store.connection(id: id)
            let ends = try await ConnectionEndPositions(of: [stored], store: store)
            try await store.deleteConnection(id: id)
            return Outcome(connection: stored, racks: ends.racks(of: stored))
        }
    }

    /// 404 naming every missing end device, then 400 when both ends are one device.
    private static func checkEnds(of connection: Connection, in store: any RackRepository) async throws {
        let (from, to) = (connection.fromDeviceID, connection.toDeviceID)
        let found = Set(try await store.devices(ids: from == to ? [from] : [from, to]).map(\.id))
        var missing: [String] = []
        if !found.contains(from) { missing.append("from device \(from)") }
        if !found.contains(to), to != from { missing.append("to device \(to)") }
        if !missing.isEmpty {
            let names = missing.joined(separator: " and ")
            throw APIError.notFound(names.prefix(1).uppercased() + String(names.dropFirst()) + " not found")
        }
        try ConnectionEnds.check(fromDeviceID: from, toDeviceID: to)
    }
}
