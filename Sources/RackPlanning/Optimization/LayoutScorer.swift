/// Scores a layout of a rack's candidates on thermal, cable, weight and access factors.
///
/// Every factor is 0-1 (1 is best) and files a device under the zone of
/// `int(start_u + height_u / 2)`. An empty layout scores 1 on every factor, as there is
/// nothing to be badly placed. The factor formulas are in the `LayoutScorer+<Factor>` files.
public struct LayoutScorer: Sendable {
    public var rack: Rack
    /// All candidates, placed or not: the access factor counts high-access devices among them.
    public var candidates: [PlacementCandidate]
    public var connections: [Connection]
    public var weights: OptimizationWeights

    public init(rack: Rack, candidates: [PlacementCandidate], connections: [Connection], weights: OptimizationWeights) {
        self.rack = rack
        self.candidates = candidates
        self.connections = connections
        self.weights = weights
    }

    /// Every factor of `layout`, and the weighted total clamped to 0-1.
    public func score(_ layout: [PlannedPosition]) -> ScoreBreakdown {
        let thermal = thermalScore(layout)
        let cable = cableScore(layout)
        let weight = weightScore(layout)
        let access = accessScore(layout)
        let total =
            weights.cable * cable + weights.weight * weight + weights.thermal * thermal + weights.access * access
        return ScoreBreakdown(
            cableManagement: cable, weightDistribution: weight, thermalManagement: thermal, accessFrequency: access,
            total: min(max(total, 0), 1), powerDistribution: powerScore(layout))
    }

    /// Sums `value` of each position into its zone.
    func zoneTotals(_ layout: [PlannedPosition], _ value: (PhysicalProfile) -> Double) -> [ThermalZone: Double] {
        var totals: [ThermalZone: Double] = [.bottom: 0, .middle: 0, .top: 0]
        for position in layout {
            totals[position.zone(totalHeightU: rack.totalHeightU), default: 0] += value(position.profile)
        }
        return totals
    }

    /// `min ÷ max` over the three zones; 1 when all are zero.
    static func balance(_ zones: [ThermalZone: Double]) -> Double {
        let values = ThermalZone.allCases.map { zones[$0, default: 0] }
        guard let largest = values.max(), largest > 0, let smallest = values.min() else { return 1 }
        return smallest / largest
    }

    /// `1 - min(used ÷ limit, 1)`. A zero limit is full as soon as anything is used.
    static func headroom(used: Double, limit: Double) -> Double {
        guard limit > 0 else { return used > 0 ? 0 : 1 }
        return 1 - min(used / limit, 1)
    }
}
