/// A rack's thermal picture: where its heat is, whether cooling keeps up, which devices run hot,
/// which neighbours fight over airflow, and what to do about it.
///
/// The response of `GET /racks/{id}/thermal-analysis`. Built from data alone: the caller
/// passes the time (ISO-8601 UTC) to stamp it with, so a cached analysis can be re-stamped.
public struct ThermalAnalysis: Codable, Sendable, Hashable {
    public var rackID: Int
    public var rackName: String
    public var heatDistribution: HeatDistribution
    public var coolingEfficiency: CoolingEfficiency
    public var hotSpots: [HotSpot]
    public var airflowConflicts: [AirflowConflict]
    public var recommendations: [String]
    public var timestamp: String

    /// Analyses `positions` (with devices embedded) in `rack`.
    ///
    /// - Parameters:
    ///   - rack: the rack; its cooling capacity defaults to 17 000 BTU/hr when missing or zero.
    ///   - positions: the rack's positions. Devices without physical data add no heat and
    ///     count as front-to-back for airflow.
    ///   - timestamp: the time of the analysis, already formatted.
    public init(rack: Rack, positions: [RackPosition], timestamp: String) {
        let distribution = HeatDistribution(rack: rack, positions: positions)
        let cooling = CoolingEfficiency(
            heatLoadBTU: distribution.totalHeatBTUHr, capacityBTU: rack.effectiveCoolingCapacityBTU)
        let hotSpots = HotSpot.find(in: positions, rack: rack)
        let conflicts = AirflowConflict.find(in: positions)
        let highHeat = positions.count {
            ($0.device?.physicalProfile?.heatBTU ?? 0) >= ThermalRecommendations.highHeatThreshold
        }
        rackID = rack.id
        rackName = rack.name
        heatDistribution = distribution
        coolingEfficiency = cooling
        self.hotSpots = hotSpots
        airflowConflicts = conflicts
        recommendations = ThermalRecommendations.make(
            distribution: distribution, cooling: cooling, conflictCount: conflicts.count,
            highHeatDeviceCount: highHeat)
        self.timestamp = timestamp
    }

    enum CodingKeys: String, CodingKey {
        case rackID = "rack_id"
        case rackName = "rack_name"
        case heatDistribution = "heat_distribution"
        case coolingEfficiency = "cooling_efficiency"
        case hotSpots = "hot_spots"
        case airflowConflicts = "airflow_conflicts"
        case recommendations, timestamp
    }
}
