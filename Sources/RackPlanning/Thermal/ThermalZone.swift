/// A third of a rack's height. Intake air is coolest at the bottom and warmest at the top.
public enum ThermalZone: String, Codable, Sendable, Hashable, CaseIterable {
    case bottom
    case middle
    case top

    /// The zone holding rack unit `unit`.
    ///
    /// With `t = total_height_u / 3` (not rounded): `u ≤ t` is bottom, `u ≤ 2t` middle, the rest
    /// top; a 42U rack splits 1-14 / 15-28 / 29-42, a 10U rack 1-3 / 4-6 / 7-10. Thermal
    /// analysis passes a device's `start_u`; the optimizer passes `int(start_u + height_u / 2)`.
    public init(unit: Int, totalHeightU: Int) {
        let third = Double(totalHeightU) / 3
        if Double(unit) <= third {
            self = .bottom
        } else if Double(unit) <= 2 * third {
            self = .middle
        } else {
            self = .top
        }
    }
}
