/// A product in the catalog (the API's "Model"): a brand's device of some type, with the
/// same physical and thermal fields as a ``DeviceSpecification``.
///
/// Unlike a specification, its width and airflow are free text (scraped pages spell them many
/// ways) and its heat output is not derived on create; ``PhysicalProfile`` reads them leniently.
public struct CatalogModel: Codable, Sendable, Hashable {
    /// The brand fields a model embeds.
    public struct BrandSummary: Codable, Sendable, Hashable {
        public var id: Int
        public var name: String
        public var slug: String
        public var logoURL: String?

        public init(id: Int, name: String, slug: String, logoURL: String? = nil) {
            self.id = id
            self.name = name
            self.slug = slug
            self.logoURL = logoURL
        }

        enum CodingKeys: String, CodingKey {
            case id, name, slug
            case logoURL = "logo_url"
        }
    }

    /// The device-type fields a model embeds.
    public struct DeviceTypeSummary: Codable, Sendable, Hashable {
        public var id: Int
        public var name: String
        public var slug: String
        public var icon: String?
        public var color: String?

        public init(id: Int, name: String, slug: String, icon: String? = nil, color: String? = nil) {
            self.id = id
            self.name = name
            self.slug = slug
            self.icon = icon
            self.color = color
        }
    }

    public var id: Int
    public var brandID: Int
    public var deviceTypeID: Int
    public var name: String
    public var variant: String?
    public var description: String?
    public var releaseDate: String?
    public var endOfLife: String?
    /// Rack units; `nil` when the catalog does not know, and then the model has no physical profile.
    public var heightU: Double?
    public var widthType: String?
    public var depthMM: Double?
    public var weightKG: Double?
    public var powerWatts: Double?
    public var heatOutputBTU: Double?
    public var airflowPattern: String?
    public var maxOperatingTempC: Double?
    public var typicalPorts: [String: Int]?
    public var mountingType: String?
    public var datasheetURL: String?
    public var imageURL: String?
    public var source: String?
    public var confidence: String?
    public var fetchedAt: String?
    public var lastUpdated: String?
    public var brand: BrandSummary?
    public var deviceType: DeviceTypeSummary?
    /// How many devices are instances of this model.
    public var deviceCount: Int

    public init(
        id: Int,
        brandID: Int,
        deviceTypeID: Int,
        name: String,
        variant: String? = nil,
        description: String? = nil,
        releaseDate: String? = nil,
        endOfLife: String? = nil,
        heightU: Double? = nil,
        widthType: String? = nil,
        depthMM: Double? = nil,
        weightKG: Double? = nil,
        powerWatts: Double? = nil,
        heatOutputBTU: Double? = nil,
        airflowPattern: String? = nil,
        maxOperatingTempC: Double? = nil,
        typicalPorts: [String: Int]? = nil,
        mountingType: String? = nil,
        datasheetURL: String? = nil,
        imageURL: String? = nil,
        source: String? = nil,
        confidence: String? = nil,
        fetchedAt: String? = nil,
        lastUpdated: String? = nil,
        brand: BrandSummary? = nil,
        deviceType: DeviceTypeSummary? = nil,
        deviceCount: Int = 0
    ) {
        self.id = id
        self.brandID = brandID
        self.deviceTypeID = deviceTypeID
        self.name = name
        self.variant = variant
        self.description = description
        self.releaseDate = releaseDate
        self.endOfLife = endOfLife
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
        self.datasheetURL = datasheetURL
        self.imageURL = imageURL
        self.source = source
        self.confidence = confidence
        self.fetchedAt = fetchedAt
        self.lastUpdated = lastUpdated
        self.brand = brand
        self.deviceType = deviceType
        self.deviceCount = deviceCount
    }

    enum CodingKeys: String, CodingKey {
        case id
        case brandID = "brand_id"
        case deviceTypeID = "device_type_id"
        case name, variant, description
        case releaseDate = "release_date"
        case endOfLife = "end_of_life"
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
        case datasheetURL = "datasheet_url"
        case imageURL = "image_url"
        case source, confidence
        case fetchedAt = "fetched_at"
        case lastUpdated = "last_updated"
        case brand
        case deviceType = "device_type"
        case deviceCount = "device_count"
    }
}
