/// A rack: its size, its limits and its cooling.
///
/// Mirrors the API's rack object. Defaults are the spec's (a 42U 19" rack, 700 mm deep,
/// 500 kg, 5 kW, 17 000 BTU/hr of cooling). Times are ISO-8601 UTC strings because this
/// target reads no clock and carries no date type; the persistence layer formats them.
public struct Rack: Codable, Sendable, Hashable {
    /// The cooling capacity assumed when a rack records none (or zero): 17 000 BTU/hr.
    public static let defaultCoolingCapacityBTU = 17_000.0

    public var id: Int
    public var name: String
    public var location: String?
    public var totalHeightU: Int
    public var widthInches: RackWidth
    public var depthMM: Double
    public var maxWeightKG: Double
    public var maxPowerWatts: Double
    public var coolingType: String
    /// Optional only because stored rows may carry null; ``effectiveCoolingCapacityBTU`` is what analyses use.
    public var coolingCapacityBTU: Double?
    public var ambientTempC: Double
    public var maxInletTempC: Double
    public var airflowCFM: Double?
    public var createdAt: String?
    /// When the rack last changed; the thermal cache key hashes it.
    public var updatedAt: String?

    public init(
        id: Int,
        name: String,
        location: String? = nil,
        totalHeightU: Int = 42,
        widthInches: RackWidth = .nineteenInch,
        depthMM: Double = 700,
        maxWeightKG: Double = 500,
        maxPowerWatts: Double = 5000,
        coolingType: String = "front-to-back",
        coolingCapacityBTU: Double? = Rack.defaultCoolingCapacityBTU,
        ambientTempC: Double = 22,
        maxInletTempC: Double = 27,
        airflowCFM: Double? = nil,
        createdAt: String? = nil,
        updatedAt: String? = nil
    ) {
        self.id = id
        self.name = name
        self.location = location
        self.totalHeightU = totalHeightU
        self.widthInches = widthInches
        self.depthMM = depthMM
        self.maxWeightKG = maxWeightKG
        self.maxPowerWatts = maxPowerWatts
        self.coolingType = coolingType
        self.coolingCapacityBTU = coolingCapacityBTU
        self.ambientTempC = ambientTempC
        self.maxInletTempC = maxInletTempC
        self.airflowCFM = airflowCFM
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The cooling capacity analyses divide by: the recorded one, or 17 000 BTU/hr when it is
    /// missing or zero (a rack with no cooling figure is not a rack with no cooling).
    public var effectiveCoolingCapacityBTU: Double {
        if let capacity = coolingCapacityBTU, capacity > 0 { return capacity }
        return Self.defaultCoolingCapacityBTU
    }

    enum CodingKeys: String, CodingKey {
        case id, name, location
        case totalHeightU = "total_height_u"
        case widthInches = "width_inches"
        case depthMM = "depth_mm"
        case maxWeightKG = "max_weight_kg"
        case maxPowerWatts = "max_power_watts"
        case coolingType = "cooling_type"
        case coolingCapacityBTU = "cooling_capacity_btu"
        case ambientTempC = "ambient_temp_c"
        case maxInletTempC = "max_inlet_temp_c"
        case airflowCFM = "airflow_cfm"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}
