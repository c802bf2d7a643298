/// The advice lines of a thermal analysis.
///
/// Checked in this order, each adding at most one line (`⚠️` needs action, `ℹ️` is
/// information): cooling over 90 % used, or else under 40 % (over-provisioned); all three
/// zones warm and the hottest over 3× the coolest; over half the heat in the top zone;
/// airflow conflicts; devices at 1 500 BTU/hr or more. With none of these, a single
/// "✓ ... optimal" line.
enum ThermalRecommendations {
    /// The heat at which a device counts as high-heat here, BTU/hr.
    static let highHeatThreshold = 1_500.0

    static func make(
        distribution: HeatDistribution,
        cooling: CoolingEfficiency,
        conflictCount: Int,
        highHeatDeviceCount: Int
    ) -> [String] {
        var lines: [String] = []
        let used = DecimalFormatting.fixed(cooling.utilizationPercent, places: 1)
        if cooling.utilizationPercent > 90 {
            lines.append(
                "⚠️ Cooling capacity is \(used)% utilized. Consider upgrading cooling or redistributing heat load.")
        } else if cooling.utilizationPercent < 40 {
            lines.append("ℹ️ Cooling capacity is only \(used)% utilized. System is over-provisioned for current load.")
        }

        let zones = distribution.zoneHeats
        if let hottest = zones.max(), let coolest = zones.min(), coolest > 0, hottest / coolest > 3 {
            lines.append(
                "⚠️ Significant thermal imbalance detected between zones. "
                    + "Consider redistributing high-heat devices for better airflow.")
        }

        if distribution.topZoneBTU > distribution.totalHeatBTUHr * 0.5 {
            lines.append(
                "⚠️ More than 50% of heat is in top zone. "
                    + "Move high-heat devices to bottom zone where intake air is coolest.")
        }

        if conflictCount > 0 {
            lines.append(
                "⚠️ Found \(conflictCount) airflow pattern conflict(s). "
                    + "Ensure all devices have consistent airflow direction.")
        }

        if highHeatDeviceCount > 0 {
            lines.append(
                "ℹ️ \(highHeatDeviceCount) high-heat device(s) detected (>1500 BTU/hr). "
                    + "Ensure adequate spacing and airflow around these devices.")
        }

        if lines.isEmpty { lines.append("✓ Thermal configuration is optimal. No issues detected.") }
        return lines
    }
}
