/// A greedy way of laying out a rack's candidates; the optimizer tries each and keeps the best.
///
/// Both heuristics first reserve the locked candidates' current Us, then place the rest
/// bottom-up; a device that fits nowhere is left out of the layout (and counted as not
/// placed), not an error. Ties between equal devices go to the lower device id.
public enum LayoutHeuristic: String, Sendable, Hashable, CaseIterable {
    /// Tallest first (heaviest first among equals), each at the lowest free U: packs the rack.
    case firstFitDecreasing = "First-Fit Decreasing"
    /// Hot devices (> 1 500 BTU/hr) in the bottom third, warm ones (> 500) in the middle
    /// third, the rest at the lowest free U; tallest first within each group.
    case thermalZoneBalancing = "Thermal Zone Balancing"

    /// The heuristic's layout of `candidates` in a rack of `totalHeightU` units.
    public func layout(_ candidates: [PlacementCandidate], totalHeightU: Int) -> [PlannedPosition] {
        switch self {
        case .firstFitDecreasing: Self.firstFitDecreasing(candidates, totalHeightU: totalHeightU)
        case .thermalZoneBalancing: Self.thermalZoneBalancing(candidates, totalHeightU: totalHeightU)
        }
    }

    private static func firstFitDecreasing(_ candidates: [PlacementCandidate], totalHeightU: Int) -> [PlannedPosition] {
        var (occupancy, placed) = UnitOccupancy.reservingLocked(candidates, totalHeightU: totalHeightU)
        let order = candidates.filter { !$0.locked }.sorted {
            ($0.profile.heightU, $0.profile.weightKG, -$0.device.id) > (
                $1.profile.heightU, $1.profile.weightKG, -$1.device.id
            )
        }
        for candidate in order {
            if let position = occupancy.placeLowest(candidate) { placed.append(position) }
        }
        return placed
    }

    /// Heat above which a device goes to the bottom third, BTU/hr.
    static let highHeat = 1_500.0
    /// Heat above which a device goes to the middle third, BTU/hr.
    static let mediumHeat = 500.0

    private static func thermalZoneBalancing(_ candidates: [PlacementCandidate], totalHeightU: Int) -> [PlannedPosition]
    {
        var (occupancy, placed) = UnitOccupancy.reservingLocked(candidates, totalHeightU: totalHeightU)
        let movable = candidates.filter { !$0.locked }
        func tallestFirst(_ group: [PlacementCandidate]) -> [PlacementCandidate] {
            group.sorted { ($0.profile.heightU, -$0.device.id) > ($1.profile.heightU, -$1.device.id) }
        }
        let hot = tallestFirst(movable.filter { $0.profile.heatBTU > highHeat })
        let warm = tallestFirst(movable.filter { $0.profile.heatBTU > mediumHeat && $0.profile.heatBTU <= highHeat })
        let cool = tallestFirst(movable.filter { $0.profile.heatBTU <= mediumHeat })

        // Zone tops as whole Us: 42U → 14 and 28, 10U → 3 and 6.
        let bottomTop = Int(Double(totalHeightU) / 3)
        let middleTop = Int(2 * Double(totalHeightU) / 3)
        func units(_ candidate: PlacementCandidate) -> Int { candidate.profile.occupiedUnits(startingAt: 0).count }

        for candidate in hot {
            // Wholly inside the bottom third if possible, else anywhere.
            let position =
                occupancy.placeLowest(candidate, from: 1, through: bottomTop - units(candidate) + 1)
                ?? occupancy.placeLowest(candidate)
            if let position { placed.append(position) }
        }
        for candidate in warm {
            let position =
                occupancy.placeLowest(candidate, from: bottomTop + 1, through: middleTop - units(candidate) + 1)
                ?? occupancy.placeLowest(candidate)
            if let position { placed.append(position) }
        }
        for candidate in cool {
            if let position = occupancy.placeLowest(candidate) { placed.append(position) }
        }
        return placed
    }
}
