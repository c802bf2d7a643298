extension LayoutScorer {
    /// How short and local the layout keeps its cables.
    ///
    /// Over connections with both ends in the layout:
    /// `0.6 × (1 - min(mean |Δstart_u| ÷ total_height_u, 1)) + 0.4 × share in the same zone`.
    /// 1 when no connection has both ends in the layout.
    public func cableScore(_ layout: [PlannedPosition]) -> Double {
        var placed: [Int: PlannedPosition] = [:]
        for position in layout where placed[position.deviceID] == nil { placed[position.deviceID] = position }
        var count = 0
        var distance = 0
        var sameZone = 0
        for connection in connections {
            guard let from = placed[connection.fromDeviceID], let to = placed[connection.toDeviceID] else { continue }
            count += 1
            distance += abs(to.startU - from.startU)
            if from.zone(totalHeightU: rack.totalHeightU) == to.zone(totalHeightU: rack.totalHeightU) { sameZone += 1 }
        }
        guard count > 0 else { return 1 }
        let meanDistance = Double(distance) / Double(count)
        let shortness = 1 - min(meanDistance / Double(rack.totalHeightU), 1)
        return 0.6 * shortness + 0.4 * (Double(sameZone) / Double(count))
    }
}
