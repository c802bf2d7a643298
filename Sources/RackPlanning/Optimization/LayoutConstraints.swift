/// The hard limits a proposed layout must meet to be offered at all.
///
/// Every device within the rack's height, no U used twice, total power, weight and heat
/// within the rack's limits (heat against the cooling capacity, 17 000 BTU/hr when the rack
/// records none), and every locked device present at its current U.
public enum LayoutConstraints {
    /// Every limit `layout` breaks, in check order; empty when the layout is valid.
    /// - Parameters:
    ///   - layout: the proposed positions.
    ///   - rack: the rack they are for.
    ///   - candidates: all candidates, to find the locked ones.
    ///   - lockedDeviceIDs: the request's locked ids; any that are not candidates (not in this
    ///     rack, or without physical data) can never be present, so they are violations too.
    public static func violations(
        of layout: [PlannedPosition], in rack: Rack, candidates: [PlacementCandidate], lockedDeviceIDs: [Int] = []
    ) -> [String] {
        var violations: [String] = []
        func name(_ device: Device) -> String { "'\(device.displayName)' (ID \(device.id))" }

        for position in layout
        where !position.profile.fitsVertically(startingAt: position.startU, inRackOf: rack.totalHeightU) {
            let top = DecimalFormatting.fixed(Double(position.startU) + position.profile.heightU - 1, places: 1)
            violations.append(
                "Device \(name(position.candidate.device)) does not fit: U\(position.startU) to U\(top) "
                    + "in a \(rack.totalHeightU)U rack")
        }

        var owner: [Int: Device] = [:]
        for position in layout {
            for unit in position.profile.occupiedUnits(startingAt: position.startU) {
                if let other = owner[unit] {
                    violations.append(
                        "U\(unit) conflict: devices \(name(position.candidate.device)) and \(name(other)) overlap")
                    break  // one report per device is enough
                }
                owner[unit] = position.candidate.device
            }
        }

        let power = layout.reduce(0) { $0 + $1.profile.powerWatts }
        if power > rack.maxPowerWatts {
            violations.append(
                "Power budget exceeded: \(DecimalFormatting.fixed(power, places: 0))W > "
                    + "\(DecimalFormatting.fixed(rack.maxPowerWatts, places: 0))W")
        }
        let weight = layout.reduce(0) { $0 + $1.profile.weightKG }
        if weight > rack.maxWeightKG {
            violations.append(
                "Weight capacity exceeded: \(DecimalFormatting.fixed(weight, places: 1))kg > "
                    + "\(DecimalFormatting.fixed(rack.maxWeightKG, places: 1))kg")
        }
        let heat = layout.reduce(0) { $0 + $1.profile.heatBTU }
        if heat > rack.effectiveCoolingCapacityBTU {
            violations.append(
                "Cooling capacity exceeded: \(DecimalFormatting.fixed(heat, places: 0)) BTU/hr > "
                    + "\(DecimalFormatting.fixed(rack.effectiveCoolingCapacityBTU, places: 0)) BTU/hr")
        }

        for candidate in candidates where candidate.locked {
            let placement = layout.first { $0.deviceID == candidate.device.id }
            if placement == nil {
                violations.append("Locked device \(name(candidate.device)) missing from solution")
            } else if let placement, placement.startU != candidate.currentStartU {
                violations.append(
                    "Locked device \(name(candidate.device)) moved from U\(candidate.currentStartU) to U\(placement.startU)"
                )
            }
        }
        let candidateIDs = Set(candidates.map(\.device.id))
        var reported = Set<Int>()
        for id in lockedDeviceIDs where !candidateIDs.contains(id) && reported.insert(id).inserted {
            violations.append("Locked device 'Device \(id)' (ID \(id)) missing from solution")
        }
        return violations
    }
}
