/// A layout's score on each factor and overall, each 0-1 (1 is best).
public struct ScoreBreakdown: Codable, Sendable, Hashable {
    public var cableManagement: Double
    public var weightDistribution: Double
    public var thermalManagement: Double
    public var accessFrequency: Double
    /// Σ weight × factor, clamped to 0-1.
    public var total: Double
    /// Power balance across zones and headroom: computed and quoted in the improvements, but
    /// not weighted into ``total`` and not part of the response's score.
    public var powerDistribution: Double = 1

    public init(
        cableManagement: Double, weightDistribution: Double, thermalManagement: Double, accessFrequency: Double,
        total: Double, powerDistribution: Double = 1
    ) {
        self.cableManagement = cableManagement
        self.weightDistribution = weightDistribution
        self.thermalManagement = thermalManagement
        self.accessFrequency = accessFrequency
        self.total = total
        self.powerDistribution = powerDistribution
    }

    enum CodingKeys: String, CodingKey {
        case cableManagement = "cable_management"
        case weightDistribution = "weight_distribution"
        case thermalManagement = "thermal_management"
        case accessFrequency = "access_frequency"
        case total
    }
}
