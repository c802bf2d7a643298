/// A candidate at a proposed `start_u`.
public struct PlannedPosition: Sendable, Hashable {
    public var candidate: PlacementCandidate
    public var startU: Int

    public init(candidate: PlacementCandidate, startU: Int) {
        self.candidate = candidate
        self.startU = startU
    }

    var deviceID: Int { candidate.device.id }
    var profile: PhysicalProfile { candidate.profile }

    /// `int(start_u + height_u / 2)`: the U the optimizer files a device under.
    var midpointUnit: Int { Int((Double(startU) + profile.heightU / 2).rounded(.towardZero)) }

    /// `start_u + height_u / 2`, unrounded, for the heat's centre of mass.
    var midpoint: Double { Double(startU) + profile.heightU / 2 }

    func zone(totalHeightU: Int) -> ThermalZone { ThermalZone(unit: midpointUnit, totalHeightU: totalHeightU) }
}
