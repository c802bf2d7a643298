/// One physical device you own: an instance of a specification or of a catalog model.
///
/// The API embeds the referenced ``DeviceSpecification`` or ``CatalogModel``; everything that
/// needs sizes or loads reads them through ``physicalProfile``.
public struct Device: Codable, Sendable, Hashable {
    public var id: Int
    public var customName: String?
    public var specificationID: Int?
    public var modelID: Int?
    public var serialNumber: String?
    public var accessFrequency: AccessFrequency
    public var notes: String?
    public var specification: DeviceSpecification?
    public var catalogModel: CatalogModel?

    public init(
        id: Int,
        customName: String? = nil,
        specificationID: Int? = nil,
        modelID: Int? = nil,
        serialNumber: String? = nil,
        accessFrequency: AccessFrequency = .medium,
        notes: String? = nil,
        specification: DeviceSpecification? = nil,
        catalogModel: CatalogModel? = nil
    ) {
        self.id = id
        self.customName = customName
        self.specificationID = specificationID ?? specification?.id
        self.modelID = modelID ?? catalogModel?.id
        self.serialNumber = serialNumber
        self.accessFrequency = accessFrequency
        self.notes = notes
        self.specification = specification
        self.catalogModel = catalogModel
    }

    /// The name shown in analyses: the custom name, else "brand model", else "Device <id>".
    public var displayName: String {
        if let customName, !customName.isEmpty { return customName }
        if let specification { return "\(specification.brand) \(specification.model)" }
        if let catalogModel {
            guard let brand = catalogModel.brand else { return catalogModel.name }
            return "\(brand.name) \(catalogModel.name)"
        }
        return "Device \(id)"
    }

    enum CodingKeys: String, CodingKey {
        case id
        case customName = "custom_name"
        case specificationID = "specification_id"
        case modelID = "model_id"
        case serialNumber = "serial_number"
        case accessFrequency = "access_frequency"
        case notes, specification
        case catalogModel = "catalog_model"
    }
}
