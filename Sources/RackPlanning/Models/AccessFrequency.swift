/// How often someone needs to touch a device: `low`, `medium` (the default) or `high`.
///
/// Always lowercase: the reference service compared against `"HIGH"`, so its access score
/// never found a frequently used device; the API's values are lowercase.
public enum AccessFrequency: String, Codable, Sendable, Hashable, CaseIterable {
    case low
    case medium
    case high
}
