/// A manufacturer in the catalog.
public struct Brand: Codable, Sendable, Hashable {
    public var id: Int
    public var name: String
    public var slug: String
    public var website: String?
    public var supportURL: String?
    /// `/uploads/brand_logos/<file>` once a logo is uploaded.
    public var logoURL: String?
    public var description: String?
    public var foundedYear: Int?
    public var headquarters: String?
    public var lastFetchedAt: String?
    public var fetchConfidence: String?
    public var fetchSource: String?
    public var createdAt: String?
    public var updatedAt: String?
    /// How many catalog models this brand has.
    public var modelCount: Int

    public init(
        id: Int,
        name: String,
        slug: String,
        website: String? = nil,
        supportURL: String? = nil,
        logoURL: String? = nil,
        description: String? = nil,
        foundedYear: Int? = nil,
        headquarters: String? = nil,
        lastFetchedAt: String? = nil,
        fetchConfidence: String? = nil,
        fetchSource: String? = nil,
        createdAt: String? = nil,
        updatedAt: String? = nil,
        modelCount: Int = 0
    ) {
        self.id = id
        self.name = name
        self.slug = slug
        self.website = website
        self.supportURL = supportURL
        self.logoURL = logoURL
        self.description = description
        self.foundedYear = foundedYear
        self.headquarters = headquarters
        self.lastFetchedAt = lastFetchedAt
        self.fetchConfidence = fetchConfidence
        self.fetchSource = fetchSource
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.modelCount = modelCount
    }

    enum CodingKeys: String, CodingKey {
        case id, name, slug, website
        case supportURL = "support_url"
        case logoURL = "logo_url"
        case description
        case foundedYear = "founded_year"
        case headquarters
        case lastFetchedAt = "last_fetched_at"
        case fetchConfidence = "fetch_confidence"
        case fetchSource = "fetch_source"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case modelCount = "model_count"
    }
}
