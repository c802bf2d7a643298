import RackPlanning

/// Checks and saves placements: new positions, changed ones, and devices moved between racks
/// (`rack-api.md` §4).
///
/// Each write is one store transaction that first locks the target rack
/// (``RackRepository/lockRack(id:)``), then reads what ``PlacementRules`` needs, evaluates it, and
/// writes only when the rules accept. Two placements into one rack therefore queue, and the
/// second is checked against the first's committed position: no overlap can slip in between a
/// check and its write. The rules run in the API's order (rack 404, device 404, bounds 400,
/// width 400, double placement and overlap 409) because the rack is locked before the device is
/// read. Callers invalidate the cached results of the racks involved after this returns.
struct PlacementService: Sendable {
    let store: any RackRepository

    /// Places a device that has no position yet.
    /// - Parameters:
    ///   - deviceID: the device to place.
    ///   - rackID: the rack to place it in.
    ///   - startU: its bottom U.
    ///   - locked: whether the optimizer must leave it there.
    /// - Returns: the new position, embedding the device.
    /// - Throws: 404 (rack, device), 400 (no physical data, bounds, width), 409 (already placed,
    ///   overlap).
    func place(deviceID: Int, in rackID: Int, startU: Int, locked: Bool) async throws -> RackPosition {
        try await store.transaction { store in
            let rack = try await store.lockRack(id: rackID)
            let request = PlacementRequest(rackID: rackID, deviceID: deviceID, startU: startU)
            _ = try await Self.admit(request, in: rack, replacing: .nothing, store: store)
            return try await store.createPosition(
                RackPosition(id: nil, rackID: rackID, deviceID: deviceID, startU: startU, locked: locked))
        }
    }

    /// Changes a position of `rackID` (its `start_u`, its `locked` flag or both).
    ///
    /// The placement rules run only when `start_u` changes, and then without the position
    /// itself; toggling `locked` on a device left out of bounds by a shrunk rack still works.
    /// - Parameters:
    ///   - positionID: the position.
    ///   - rackID: the rack it must be in.
    ///   - change: the new record from the current one (the partial `PUT` merge); its `id`,
    ///     `rack_id` and `device_id` are ignored.
    /// - Returns: the stored position.
    /// - Throws: 404 when the rack or the position (in that rack) does not exist, what `change`
    ///   throws (422), and the placement rules' 400 and 409.
    func update(
        positionID: Int, in rackID: Int, applying change: @escaping @Sendable (RackPosition) throws -> RackPosition
    ) async throws -> RackPosition {
        try await store.transaction { store in
            let rack = try await store.lockRack(id: rackID)
            let current = try await store.position(id: positionID)
            guard current.rackID == rackID else {
                throw StoreError.notFound("Position \(positionID) not found in rack \(rackID)")
            }
            var updated = try change(current)
            updated.id = current.id
            updated.rackID = current.rackID
            updated.deviceID = current.deviceID
            if updated.startU != current.startU {
                let request = PlacementRequest(rackID: rackID, deviceID: current.deviceID, startU: updated.startU)
                _ = try await Self.admit(request, in: rack, replacing: .position(id: positionID), store: store)
            }
            return try await store.updatePosition(updated)
        }
    }

    /// Moves a device to `startU` of `rackID`, or places it there when it has no position yet.
    ///
    /// The device's current position is the one that moves: it neither counts as a double
    /// placement nor overlaps the device's new Us, and it keeps its `locked` flag.
    /// - Parameters:
    ///   - deviceID: the device.
    ///   - rackID: the target rack.
    ///   - startU: the target bottom U.
    /// - Returns: the stored position, and the rack the device was in before (`nil` when it was
    ///   not placed).
    /// - Throws: 404 (rack, device), 400 (no physical data, bounds, width), 409 (overlap).
    func move(
        deviceID: Int, to rackID: Int, startU: Int
    ) async throws -> (position: RackPosition, previousRackID: Int?) {
        try await store.transaction { store in
            let rack = try await store.lockRack(id: rackID)
            let request = PlacementRequest(rackID: rackID, deviceID: deviceID, startU: startU)
            let current = try await Self.admit(request, in: rack, replacing: .devicesCurrentPosition, store: store)
            guard var position = current else {
                let created = try await store.createPosition(
                    RackPosition(id: nil, rackID: rackID, deviceID: deviceID, startU: startU))
                return (created, nil)
            }
            let previousRackID = position.rackID
            position.rackID = rackID
            position.startU = startU
            return (try await store.updatePosition(position), previousRackID)
        }
    }

    /// Which existing position a placement replaces; the 409 checks ignore it.
    private enum Replacing {
        case nothing
        case position(id: Int)
        /// Wherever the device is now (a move).
        case devicesCurrentPosition
    }

    /// Evaluates `request` in `rack` (already locked) and throws the refusal, if any.
    /// - Returns: the device's current position (`nil` when it is not placed).
    private static func admit(
        _ request: PlacementRequest, in rack: Rack, replacing: Replacing, store: any RackRepository
    ) async throws -> RackPosition? {
        let device = try await store.device(id: request.deviceID)
        let rackPositions = try await store.layout(rackID: rack.id).positions
        let devicePosition = try await store.position(deviceID: device.id)
        let movingPositionID: Int? =
            switch replacing {
            case .nothing: nil
            case .position(let id): id
            case .devicesCurrentPosition: devicePosition?.id
            }
        let decision = PlacementRules.evaluate(
            request, rack: rack, device: device, rackPositions: rackPositions,
            devicePositions: devicePosition.map { [$0] } ?? [], movingPositionID: movingPositionID)
        _ = try decision.accepted()
        return devicePosition
    }
}
