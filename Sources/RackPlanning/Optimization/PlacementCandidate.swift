/// A device the optimizer may move: one placed in the rack, whose size and loads are known.
public struct PlacementCandidate: Sendable, Hashable {
    public var device: Device
    public var profile: PhysicalProfile
    /// Where the device sits now.
    public var currentStartU: Int
    /// Whether it must stay at ``currentStartU``.
    public var locked: Bool

    public init(device: Device, profile: PhysicalProfile, currentStartU: Int, locked: Bool) {
        self.device = device
        self.profile = profile
        self.currentStartU = currentStartU
        self.locked = locked
    }

    /// The candidates among a rack's positions, in device-id order.
    ///
    /// Only the rack's own devices are candidates (the reference service took every device
    /// with a specification, in any rack). A device is locked when the request lists it or its
    /// stored position is marked `locked`, since that flag exists to guide the optimizer.
    /// Devices without physical data are left out; a device listed twice counts once, at its
    /// first position.
    /// - Parameters:
    ///   - positions: the rack's positions, with devices embedded.
    ///   - rackID: the rack's id; positions of other racks are ignored.
    ///   - lockedDeviceIDs: the request's `locked_positions`.
    public static func candidates(
        from positions: [RackPosition], rackID: Int, lockedDeviceIDs: [Int]
    ) -> [PlacementCandidate] {
        let locked = Set(lockedDeviceIDs)
        var seen = Set<Int>()
        var candidates: [PlacementCandidate] = []
        for position in positions where position.rackID == rackID {
            guard let device = position.device, let profile = device.physicalProfile,
                seen.insert(device.id).inserted
            else { continue }
            candidates.append(
                PlacementCandidate(
                    device: device, profile: profile, currentStartU: position.startU,
                    locked: position.locked || locked.contains(device.id)))
        }
        return candidates.sorted { $0.device.id < $1.device.id }
    }
}
