/// How far a specification's figures can be trusted.
public enum Confidence: String, Codable, Sendable, Hashable, CaseIterable {
    case high
    case medium
    case low
}
