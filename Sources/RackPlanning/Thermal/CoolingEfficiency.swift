/// How a rack's heat load compares with its cooling capacity.
public struct CoolingEfficiency: Codable, Sendable, Hashable {
    /// BTU/hr in one ton of refrigeration.
    public static let btuPerTon = 12_000.0

    /// How close the load is to the capacity.
    public enum Status: String, Codable, Sendable, Hashable, CaseIterable {
        /// Under 70 % of capacity.
        case optimal
        /// 70 % to under 85 %.
        case acceptable
        /// 85 % to under 100 %.
        case warning
        /// At or over capacity.
        case critical

        /// The status of a load at `utilizationPercent` of capacity.
        public init(utilizationPercent: Double) {
            if utilizationPercent < 70 {
                self = .optimal
            } else if utilizationPercent < 85 {
                self = .acceptable
            } else if utilizationPercent < 100 {
                self = .warning
            } else {
                self = .critical
            }
        }
    }

    /// The rack's capacity, or 17 000 BTU/hr when it records none.
    public var coolingCapacityBTUHr: Double
    public var coolingCapacityTons: Double
    public var heatLoadBTUHr: Double
    /// Heat ÷ capacity × 100, 2 dp.
    public var utilizationPercent: Double
    public var remainingCapacityBTUHr: Double
    public var remainingCapacityTons: Double
    public var status: Status

    /// Compares `heatLoadBTU` with `capacityBTU`.
    ///
    /// The status is taken from the unrounded utilization, the figure from the rounded one,
    /// as the reference service did (69.996 % reads "70.0" yet is still optimal).
    public init(heatLoadBTU: Double, capacityBTU: Double) {
        let utilization = capacityBTU > 0 ? heatLoadBTU / capacityBTU * 100 : 0
        let remaining = max(0, capacityBTU - heatLoadBTU)
        coolingCapacityBTUHr = capacityBTU
        coolingCapacityTons = (capacityBTU / Self.btuPerTon).rounded(toPlaces: 2)
        heatLoadBTUHr = heatLoadBTU
        utilizationPercent = utilization.rounded(toPlaces: 2)
        remainingCapacityBTUHr = remaining.rounded(toPlaces: 2)
        remainingCapacityTons = (remaining / Self.btuPerTon).rounded(toPlaces: 2)
        status = Status(utilizationPercent: utilization)
    }

    enum CodingKeys: String, CodingKey {
        case coolingCapacityBTUHr = "cooling_capacity_btu_hr"
        case coolingCapacityTons = "cooling_capacity_tons"
        case heatLoadBTUHr = "heat_load_btu_hr"
        case utilizationPercent = "utilization_percent"
        case remainingCapacityBTUHr = "remaining_capacity_btu_hr"
        case remainingCapacityTons = "remaining_capacity_tons"
        case status
    }
}
