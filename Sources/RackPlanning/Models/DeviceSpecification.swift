/// The physical and thermal facts of one make of device (brand, model, variant).
///
/// A specification is what most devices point at; the optimizer, thermal analysis and
/// placement rules read their sizes and loads from here (or from a ``CatalogModel``).
public struct DeviceSpecification: Codable, Sendable, Hashable {
    /// BTU/hr given off per watt drawn: all electrical power ends up as heat.
    public static let btuPerWatt = 3.412

    public var id: Int
    public var brand: String
    public var model: String
    public var variant: String?
    /// Rack units; fractional for half-U and 1.5U kit, 0 for zero-U (side-mounted) kit.
    public var heightU: Double
    public var widthType: RackWidth?
    public var depthMM: Double?
    public var weightKG: Double?
    public var powerWatts: Double?
    public var heatOutputBTU: Double?
    public var airflowPattern: AirflowPattern
    public var maxOperatingTempC: Double?
    /// Port name to how many of them, e.g. `["1GbE": 24, "SFP+": 4]`.
    public var typicalPorts: [String: Int]?
    public var mountingType: String?
    public var source: SpecSource
    public var sourceURL: String?
    public var confidence: Confidence
    public var fetchedAt: String?
    public var lastUpdated: String?

    public init(
        id: Int,
        brand: String,
        model: String,
        variant: String? = nil,
        heightU: Double,
        widthType: RackWidth? = nil,
        depthMM: Double? = nil,
        weightKG: Double? = nil,
        powerWatts: Double? = nil,
        heatOutputBTU: Double? = nil,
        airflowPattern: AirflowPattern = .frontToBack,
        maxOperatingTempC: Double? = nil,
        typicalPorts: [String: Int]? = nil,
        mountingType: String? = nil,
        source: SpecSource = .userCustom,
        sourceURL: String? = nil,
        confidence: Confidence = .medium,
        fetchedAt: String? = nil,
        lastUpdated: String? = nil
    ) {
        self.id = id
        self.brand = brand
        self.model = model
        self.variant = variant
        self.heightU = heightU
        self.widthType = widthType
        self.depthMM = depthMM
        self.weightKG = weightKG
        self.powerWatts = powerWatts
        self.heatOutputBTU = heatOutputBTU
        self.airflowPattern = airflowPattern
        self.maxOperatingTempC = maxOperatingTempC
        self.typicalPorts = typicalPorts
        self.mountingType = mountingType
        self.source = source
        self.sourceURL = sourceURL
        self.confidence = confidence
        self.fetchedAt = fetchedAt
        self.lastUpdated = lastUpdated
    }

    /// This specification as stored on create: with `heat_output_btu` filled in from the
    /// power draw (watts × 3.412) when it was left out, so later reads need not derive it.
    public func fillingHeatOutput() -> DeviceSpecification {
        guard heatOutputBTU == nil, let watts = powerWatts else { return self }
        var filled = self
        filled.heatOutputBTU = watts * Self.btuPerWatt
        return filled
    }

    enum CodingKeys: String, CodingKey {
        case id, brand, model, variant
        case heightU = "height_u"
        case widthType = "width_type"
        case depthMM = "depth_mm"
        case weightKG = "weight_kg"
        case powerWatts = "power_watts"
        case heatOutputBTU = "heat_output_btu"
        case airflowPattern = "airflow_pattern"
        case maxOperatingTempC = "max_operating_temp_c"
        case typicalPorts = "typical_ports"
        case mountingType = "mounting_type"
        case source
        case sourceURL = "source_url"
        case confidence
        case fetchedAt = "fetched_at"
        case lastUpdated = "last_updated"
    }
}
