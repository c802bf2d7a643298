/// A rack with its positions and the totals the layout view shows.
///
/// The response of `GET /racks/{id}/layout`. Unknown heights, weights and power count as 0;
/// figures are rounded to 2 dp.
public struct RackLayout: Codable, Sendable, Hashable {
    public var rack: Rack
    public var positions: [RackPosition]
    /// Σ height_u ÷ total_height_u × 100.
    public var utilizationPercent: Double
    public var totalWeightKG: Double
    public var totalPowerWatts: Double

    /// Summarises `positions` (with their devices embedded) in `rack`.
    public init(rack: Rack, positions: [RackPosition]) {
        self.rack = rack
        self.positions = positions
        let profiles = positions.compactMap { $0.device?.physicalProfile }
        let height = profiles.reduce(0) { $0 + $1.heightU }
        utilizationPercent =
            rack.totalHeightU > 0 ? (height / Double(rack.totalHeightU) * 100).rounded(toPlaces: 2) : 0
        totalWeightKG = profiles.reduce(0) { $0 + $1.weightKG }.rounded(toPlaces: 2)
        totalPowerWatts = profiles.reduce(0) { $0 + $1.powerWatts }.rounded(toPlaces: 2)
    }

    enum CodingKeys: String, CodingKey {
        case rack, positions
        case utilizationPercent = "utilization_percent"
        case totalWeightKG = "total_weight_kg"
        case totalPowerWatts = "total_power_watts"
    }
}
