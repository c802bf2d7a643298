/// Which rack units a layout under construction has taken, for the greedy heuristics.
struct UnitOccupancy {
    let totalHeightU: Int
    private var taken = Set<Int>()

    init(totalHeightU: Int) { self.totalHeightU = totalHeightU }

    mutating func reserve(_ units: Range<Int>) { taken.formUnion(units) }

    /// The lowest start in `lowest...highest` where `profile` fits the rack and touches no taken U.
    ///
    /// Bounds are plain integers (an empty span is simply `lowest > highest`). Starts are
    /// clipped to the ones the placement bounds accept (``PhysicalProfile/highestStart(inRackOf:)``),
    /// so a greedy layout never fails the bounds check that follows it.
    func lowestFreeStart(for profile: PhysicalProfile, from lowest: Int = 1, through highest: Int = .max) -> Int? {
        guard let fitting = profile.highestStart(inRackOf: totalHeightU) else { return nil }
        let lower = max(1, lowest)
        let upper = min(fitting, highest)
        guard lower <= upper else { return nil }
        for start in lower...upper where taken.isDisjoint(with: profile.occupiedUnits(startingAt: start)) {
            return start
        }
        return nil
    }

    /// Places `candidate` at the lowest free start in `lowest...highest`, if any; returns the position.
    mutating func placeLowest(
        _ candidate: PlacementCandidate, from lowest: Int = 1, through highest: Int = .max
    ) -> PlannedPosition? {
        guard let start = lowestFreeStart(for: candidate.profile, from: lowest, through: highest) else { return nil }
        reserve(candidate.profile.occupiedUnits(startingAt: start))
        return PlannedPosition(candidate: candidate, startU: start)
    }

    /// Reserves the locked candidates' current Us first, so the heuristics build around them.
    static func reservingLocked(_ candidates: [PlacementCandidate], totalHeightU: Int) -> (
        UnitOccupancy, [PlannedPosition]
    ) {
        var occupancy = UnitOccupancy(totalHeightU: totalHeightU)
        var placed: [PlannedPosition] = []
        for candidate in candidates where candidate.locked {
            occupancy.reserve(candidate.profile.occupiedUnits(startingAt: candidate.currentStartU))
            placed.append(PlannedPosition(candidate: candidate, startU: candidate.currentStartU))
        }
        return (occupancy, placed)
    }
}
