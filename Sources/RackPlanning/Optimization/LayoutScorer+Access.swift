extension LayoutScorer {
    /// How reachable the layout keeps the devices people touch most.
    ///
    /// The share of high-access candidates whose midpoint is in the middle zone (waist to
    /// chest height). The denominator is every high-access candidate, so one the layout could
    /// not place counts against it. 1 when there are none (or nothing is placed).
    public func accessScore(_ layout: [PlannedPosition]) -> Double {
        guard !layout.isEmpty else { return 1 }
        let frequent = Set(candidates.filter { $0.profile.access == .high }.map(\.device.id))
        guard !frequent.isEmpty else { return 1 }
        var inMiddle = Set<Int>()
        for position in layout
        where frequent.contains(position.deviceID) && position.zone(totalHeightU: rack.totalHeightU) == .middle {
            inMiddle.insert(position.deviceID)
        }
        return Double(inMiddle.count) / Double(frequent.count)
    }
}
