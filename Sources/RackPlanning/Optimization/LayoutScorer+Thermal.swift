extension LayoutScorer {
    /// Heat above which a device should be spaced from its peers, BTU/hr.
    static let spacedHeat = 1_500.0

    /// How well the layout handles heat.
    ///
    /// `0.3 × zone balance + 0.3 × spacing + 0.2 × cooling headroom + 0.2 × bottom bias`:
    /// - zone balance: coolest zone's heat ÷ hottest zone's (1 when no heat);
    /// - spacing: mean pairwise |Δstart_u| of devices over 1 500 BTU/hr ÷ (total_height_u / 3),
    ///   at most 1 (1 with fewer than two such devices): hot devices a third of the rack apart;
    /// - headroom: `1 - min(heat ÷ cooling capacity, 1)`;
    /// - bottom bias: the heat-weighted mean of `midpoint ÷ total_height_u` is ≤ 0.33 → 1,
    ///   ≤ 0.5 → 0.7, else 0.3 (1 when no heat), since intake air is coolest low down.
    public func thermalScore(_ layout: [PlannedPosition]) -> Double {
        guard !layout.isEmpty else { return 1 }
        let zoneBalance = Self.balance(zoneTotals(layout) { $0.heatBTU })

        let hot = layout.filter { $0.profile.heatBTU > Self.spacedHeat }
        var spacing = 1.0
        if hot.count > 1 {
            var distance = 0.0
            var pairs = 0
            for first in 0..<hot.count {
                for second in (first + 1)..<hot.count {
                    distance += Double(abs(hot[second].startU - hot[first].startU))
                    pairs += 1
                }
            }
            spacing = min((distance / Double(pairs)) / (Double(rack.totalHeightU) / 3), 1)
        }

        let heat = layout.reduce(0) { $0 + $1.profile.heatBTU }
        let headroom = Self.headroom(used: heat, limit: rack.effectiveCoolingCapacityBTU)

        var bottomBias = 1.0
        if heat > 0 {
            let centre =
                layout.reduce(0) { $0 + $1.midpoint / Double(rack.totalHeightU) * $1.profile.heatBTU } / heat
            bottomBias = centre <= 0.33 ? 1 : (centre <= 0.5 ? 0.7 : 0.3)
        }
        return min(0.3 * zoneBalance + 0.3 * spacing + 0.2 * headroom + 0.2 * bottomBias, 1)
    }
}
