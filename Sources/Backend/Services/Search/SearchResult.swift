import RackPlanning

/// One hit of `GET /api/search`: a specification, a catalog model or a brand, in one shape so a
/// search box can list them together.
///
/// `name` is what to show ("Ubiquiti USW-Pro-24", "Dell PowerEdge R740", "Dell"); `id` is the
/// record's id in its own collection (`/device-specs/{id}`, `/models/{id}`, `/brands/{id}`).
/// The other fields are there when the kind has them, and left out otherwise.
public struct SearchResult: Codable, Sendable, Hashable {
    /// Which collection the hit comes from.
    public enum Kind: String, Codable, Sendable, Hashable, CaseIterable {
        case specification
        case model
        case brand
    }

    public var type: Kind
    public var id: Int
    /// The display name.
    public var name: String
    /// The brand's name, for specifications and models.
    public var brand: String?
    public var variant: String?
    /// The model's device type (its name), for models.
    public var deviceType: String?
    /// Rack units, for specifications and models that record them.
    public var heightU: Double?

    public init(
        type: Kind, id: Int, name: String, brand: String? = nil, variant: String? = nil,
        deviceType: String? = nil, heightU: Double? = nil
    ) {
        self.type = type
        self.id = id
        self.name = name
        self.brand = brand
        self.variant = variant
        self.deviceType = deviceType
        self.heightU = heightU
    }

    enum CodingKeys: String, CodingKey {
        case type, id, name, brand, variant
        case deviceType = "device_type"
        case heightU = "height_u"
    }
}

extension SearchResult {
    init(_ specification: DeviceSpecification) {
        self.init(
            type: .specification, id: specification.id, name: specification.displayName, brand: specification.brand,
            variant: specification.variant, heightU: specification.heightU)
    }

    /// A model is named with its brand when the store embedded it ("Dell PowerEdge R740").
    init(_ model: CatalogModel) {
        var name = model.brand.map { "\($0.name) \(model.name)" } ?? model.name
        if let variant = model.variant, !variant.isEmpty { name += " \(variant)" }
        self.init(
            type: .model, id: model.id, name: name, brand: model.brand?.name, variant: model.variant,
            deviceType: model.deviceType?.name, heightU: model.heightU)
    }

    init(_ brand: Brand) {
        self.init(type: .brand, id: brand.id, name: brand.name)
    }
}
