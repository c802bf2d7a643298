extension LayoutScorer {
    /// How safely the layout spreads its weight.
    ///
    /// `0.7 × balance + 0.3 × (1 - min(Σ kg ÷ max_weight_kg, 1))`. Balance punishes a heavy
    /// top (tipping): when the top zone outweighs the bottom or the middle it is
    /// `min(bottom, middle) ÷ top`, otherwise lightest zone ÷ heaviest; 1 when nothing weighs.
    public func weightScore(_ layout: [PlannedPosition]) -> Double {
        guard !layout.isEmpty else { return 1 }
        let zones = zoneTotals(layout) { $0.weightKG }
        let bottom = zones[.bottom, default: 0]
        let middle = zones[.middle, default: 0]
        let top = zones[.top, default: 0]
        let balance = (top > middle || top > bottom) ? min(bottom, middle) / top : Self.balance(zones)
        let weight = layout.reduce(0) { $0 + $1.profile.weightKG }
        return 0.7 * balance + 0.3 * Self.headroom(used: weight, limit: rack.maxWeightKG)
    }

    /// How evenly the layout spreads its power draw (reported, not weighted).
    ///
    /// `0.6 × (lowest zone's watts ÷ highest's) + 0.4 × (1 - min(Σ W ÷ max_power_watts, 1))`.
    public func powerScore(_ layout: [PlannedPosition]) -> Double {
        guard !layout.isEmpty else { return 1 }
        let balance = Self.balance(zoneTotals(layout) { $0.powerWatts })
        let power = layout.reduce(0) { $0 + $1.profile.powerWatts }
        return min(0.6 * balance + 0.4 * Self.headroom(used: power, limit: rack.maxPowerWatts), 1)
    }
}
