/// How much heat a rack's devices give off, in total and per zone (by each device's `start_u`).
public struct HeatDistribution: Codable, Sendable, Hashable {
    /// BTU/hr, 2 dp.
    public var totalHeatBTUHr: Double
    /// Watts, 2 dp.
    public var totalPowerWatts: Double
    public var bottomZoneBTU: Double
    public var middleZoneBTU: Double
    public var topZoneBTU: Double
    /// Every position, including devices whose loads are unknown.
    public var deviceCount: Int

    public init(
        totalHeatBTUHr: Double, totalPowerWatts: Double, bottomZoneBTU: Double, middleZoneBTU: Double,
        topZoneBTU: Double, deviceCount: Int
    ) {
        self.totalHeatBTUHr = totalHeatBTUHr
        self.totalPowerWatts = totalPowerWatts
        self.bottomZoneBTU = bottomZoneBTU
        self.middleZoneBTU = middleZoneBTU
        self.topZoneBTU = topZoneBTU
        self.deviceCount = deviceCount
    }

    /// Sums the positions' heat and power, assigning each device's heat to the zone of its `start_u`.
    init(rack: Rack, positions: [RackPosition]) {
        var total = 0.0
        var watts = 0.0
        var zones: [ThermalZone: Double] = [.bottom: 0, .middle: 0, .top: 0]
        for position in positions {
            guard let profile = position.device?.physicalProfile else { continue }
            total += profile.heatBTU
            watts += profile.powerWatts
            zones[ThermalZone(unit: position.startU, totalHeightU: rack.totalHeightU), default: 0] += profile.heatBTU
        }
        self.init(
            totalHeatBTUHr: total.rounded(toPlaces: 2),
            totalPowerWatts: watts.rounded(toPlaces: 2),
            bottomZoneBTU: zones[.bottom, default: 0].rounded(toPlaces: 2),
            middleZoneBTU: zones[.middle, default: 0].rounded(toPlaces: 2),
            topZoneBTU: zones[.top, default: 0].rounded(toPlaces: 2),
            deviceCount: positions.count)
    }

    /// The three zones' heat, bottom first.
    public var zoneHeats: [Double] { [bottomZoneBTU, middleZoneBTU, topZoneBTU] }

    enum CodingKeys: String, CodingKey {
        case totalHeatBTUHr = "total_heat_btu_hr"
        case totalPowerWatts = "total_power_watts"
        case bottomZoneBTU = "bottom_zone_btu"
        case middleZoneBTU = "middle_zone_btu"
        case topZoneBTU = "top_zone_btu"
        case deviceCount = "device_count"
    }
}
