/// The size and loads of a device, whichever record they come from.
///
/// Placement, layout totals, thermal analysis and the optimizer all read devices through this
/// one shape, built from the device's ``DeviceSpecification`` or, failing that, its
/// ``CatalogModel``. (The reference service read only specifications, so devices added from
/// the catalog had no size, weight or heat; this closes that gap.) Unknown weight and power
/// count as 0, the way the layout totals treat nulls; depth stays optional because the cable
/// estimate substitutes its own default.
public struct PhysicalProfile: Sendable, Hashable {
    /// Rack units; may be fractional (1.5U) or 0 (zero-U kit).
    public var heightU: Double
    /// `nil` when unknown: then any rack width accepts it.
    public var width: RackWidth?
    public var depthMM: Double?
    public var weightKG: Double
    public var powerWatts: Double
    /// BTU/hr: the recorded heat output when positive, else watts × 3.412.
    public var heatBTU: Double
    /// Front to back when the record has none (or an unreadable one).
    public var airflow: AirflowPattern
    public var access: AccessFrequency

    public init(
        heightU: Double,
        width: RackWidth? = nil,
        depthMM: Double? = nil,
        weightKG: Double = 0,
        powerWatts: Double = 0,
        heatBTU: Double? = nil,
        airflow: AirflowPattern = .frontToBack,
        access: AccessFrequency = .medium
    ) {
        self.heightU = heightU
        self.width = width
        self.depthMM = depthMM
        self.weightKG = weightKG
        self.powerWatts = powerWatts
        self.heatBTU = Self.heat(recorded: heatBTU, powerWatts: powerWatts)
        self.airflow = airflow
        self.access = access
    }

    /// The heat a device gives off: its recorded BTU/hr when positive, else its power × 3.412.
    ///
    /// A recorded 0 is read as "not recorded" rather than "cold", as the reference service did,
    /// because a powered device always gives off its power as heat.
    /// - Parameters:
    ///   - recorded: the record's `heat_output_btu`, if any.
    ///   - powerWatts: the record's `power_watts` (0 when unknown).
    /// - Returns: BTU/hr, unrounded.
    public static func heat(recorded: Double?, powerWatts: Double) -> Double {
        if let recorded, recorded > 0 { return recorded }
        return powerWatts * DeviceSpecification.btuPerWatt
    }

    /// The rack units this device blocks when it starts at `startU`.
    ///
    /// Others occupy `int(start)` … `int(start + height) - 1`: a fractional height is truncated
    /// (a 1.5U device blocks one U, a 0.5U device none), and a 0U device blocks nothing.
    /// - Parameter startU: the bottom U.
    /// - Returns: a half-open range, empty for zero-U and sub-U devices.
    public func occupiedUnits(startingAt startU: Int) -> Range<Int> {
        let end = Int((Double(startU) + max(heightU, 0)).rounded(.towardZero))
        return startU..<max(end, startU)
    }

    /// Whether the device fits vertically at `startU` in a rack of `totalHeightU` units.
    ///
    /// Its top U is `start_u + height_u - 1`, which must not pass the rack's top U. (The
    /// reference service required `start_u + height_u ≤ total`, which left the top U unusable:
    /// a 2U device at U41 of 42U fits, at U42 it does not.) `start_u` itself must also lie in
    /// the rack, so a zero-U device cannot sit above it.
    public func fitsVertically(startingAt startU: Int, inRackOf totalHeightU: Int) -> Bool {
        guard startU >= 1, startU <= totalHeightU else { return false }
        return Double(startU) + heightU - 1 <= Double(totalHeightU)
    }

    /// The highest start that ``fitsVertically(startingAt:inRackOf:)`` accepts, or `nil` when
    /// the device is taller than the rack.
    public func highestStart(inRackOf totalHeightU: Int) -> Int? {
        let highest = min(totalHeightU, Int((Double(totalHeightU) - heightU + 1).rounded(.down)))
        return highest >= 1 ? highest : nil
    }
}
