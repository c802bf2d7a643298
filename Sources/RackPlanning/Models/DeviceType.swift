/// A category of device in the catalog (switch, server, UPS...).
public struct DeviceType: Codable, Sendable, Hashable {
    public var id: Int
    public var name: String
    public var slug: String
    /// An emoji shown beside the name.
    public var icon: String?
    public var description: String?
    public var color: String?
    public var createdAt: String?
    public var updatedAt: String?
    /// How many catalog models have this type.
    public var modelCount: Int

    public init(
        id: Int,
        name: String,
        slug: String,
        icon: String? = nil,
        description: String? = nil,
        color: String? = nil,
        createdAt: String? = nil,
        updatedAt: String? = nil,
        modelCount: Int = 0
    ) {
        self.id = id
        self.name = name
        self.slug = slug
        self.icon = icon
        self.description = description
        self.color = color
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.modelCount = modelCount
    }

    enum CodingKeys: String, CodingKey {
        case id, name, slug, icon, description, color
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case modelCount = "model_count"
    }
}
