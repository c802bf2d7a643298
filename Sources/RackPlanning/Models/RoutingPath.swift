/// How a cable is run between its two ends.
public enum RoutingPath: String, Codable, Sendable, Hashable, CaseIterable {
    case direct
    case cableTray = "cable_tray"
    case conduit

    /// How much longer than the straight path the cable must be: trays and conduits detour.
    public var lengthMultiplier: Double {
        switch self {
        case .direct: 1.2
        case .cableTray: 1.5
        case .conduit: 1.8
        }
    }
}
