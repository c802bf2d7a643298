/// Decides whether a device may be placed (or moved) in a rack at a given U.
///
/// Pure: the caller looks up the rack, the device and the positions, and saves nothing until
/// the decision is ``PlacementDecision/accepted(occupying:)``. Rules, in order:
/// rack exists (404) → device exists (404) → device has physical data (400) → fits
/// vertically (400) → fits the rack's width (400) → not already placed elsewhere (409) →
/// no overlap (409). Power and weight limits are not placement rules; thermal analysis
/// and the optimizer report them.
public enum PlacementRules {
    /// Evaluates one placement.
    ///
    /// - Parameters:
    ///   - request: where the device should go.
    ///   - rack: the rack `request.rackID` names, or `nil` when there is none.
    ///   - device: the device `request.deviceID` names (with its specification or catalog
    ///     model embedded), or `nil` when there is none.
    ///   - rackPositions: the positions now in the target rack, with their devices embedded.
    ///   - devicePositions: the positions the device now holds, in any rack.
    ///   - movingPositionID: for a move or an update of `start_u`, the position being moved;
    ///     it is ignored by the double-placement and overlap checks, since it is the one that
    ///     will change.
    /// - Returns: the first rule broken, or where the device will sit.
    public static func evaluate(
        _ request: PlacementRequest,
        rack: Rack?,
        device: Device?,
        rackPositions: [RackPosition],
        devicePositions: [RackPosition],
        movingPositionID: Int? = nil
    ) -> PlacementDecision {
        guard let rack else { return .rackNotFound(rackID: request.rackID) }
        guard let device else { return .deviceNotFound(deviceID: request.deviceID) }
        guard let profile = device.physicalProfile else { return .missingPhysicalData(deviceID: device.id) }

        guard profile.fitsVertically(startingAt: request.startU, inRackOf: rack.totalHeightU) else {
            return .outOfBounds(startU: request.startU, heightU: profile.heightU, totalHeightU: rack.totalHeightU)
        }
        if let width = profile.width, !width.fits(in: rack.widthInches) {
            return .widthIncompatible(device: width, rack: rack.widthInches)
        }

        func isMoving(_ position: RackPosition) -> Bool {
            guard let movingPositionID else { return false }
            return position.id == movingPositionID
        }

        let held = devicePositions + rackPositions
        if let existing = held.first(where: { $0.deviceID == device.id && !isMoving($0) }) {
            return .alreadyPlaced(rackID: existing.rackID, startU: existing.startU)
        }

        let wanted = profile.occupiedUnits(startingAt: request.startU)
        var clashingUnits = Set<Int>()
        var clashingDevices = Set<Int>()
        for other in rackPositions where !isMoving(other) && other.deviceID != device.id {
            // An occupant whose size is unknown counts as 0U, as the layout totals count it.
            guard let otherProfile = other.device?.physicalProfile else { continue }
            let taken = otherProfile.occupiedUnits(startingAt: other.startU)
            let shared = wanted.clamped(to: taken)
            guard !shared.isEmpty else { continue }
            clashingUnits.formUnion(shared)
            clashingDevices.insert(other.deviceID)
        }
        guard clashingUnits.isEmpty else {
            return .overlap(units: clashingUnits.sorted(), deviceIDs: clashingDevices.sorted())
        }
        return .accepted(occupying: wanted)
    }
}
