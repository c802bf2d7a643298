/// Which way air moves through a device.
///
/// A device with no recorded pattern is treated as ``frontToBack``, the rack-mount norm, so a
/// missing value never hides an airflow conflict involving its neighbour.
public enum AirflowPattern: String, Codable, Sendable, Hashable, CaseIterable {
    case frontToBack = "front_to_back"
    case backToFront = "back_to_front"
    case sideToSide = "side_to_side"
    case passive

    /// Reads a pattern from a catalog model, whose pattern is free text.
    ///
    /// Accepts any case and `-` or space for `_` (`"Front-to-Back"`); anything else is `nil`,
    /// which callers then treat as front to back.
    public init?(lenient text: String) {
        // Most stored patterns are already spelled as the API spells them (every specification
        // the API writes is): no lowercased copy for those, which was a quarter of reading a
        // specification row in an uncached layout.
        if let exact = AirflowPattern(rawValue: text) {
            self = exact
            return
        }
        let normalized = String(text.lowercased().map { $0 == "-" || $0 == " " ? "_" : $0 })
        guard let pattern = AirflowPattern(rawValue: normalized) else { return nil }
        self = pattern
    }
}
