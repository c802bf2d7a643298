/// Where a device specification came from.
public enum SpecSource: String, Codable, Sendable, Hashable, CaseIterable {
    case webFetched = "web_fetched"
    case manufacturerSpec = "manufacturer_spec"
    case community
    case userCustom = "user_custom"
}
