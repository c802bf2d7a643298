/// Estimates how long a cable between two devices in one rack must be.
///
/// `(|Δstart_u| × 0.04445 m + depth) × routing multiplier`, 2 dp: the vertical run between
/// the two Us, plus the rack depth once (front ports to rear ports), stretched for the route
/// (direct 1.2, cable tray 1.5, conduit 1.8). Depth is the deeper of the two devices (the cable
/// must clear both), 600 mm when neither records one.
public enum CableLength {
    /// The height of one rack unit, in metres (1.75 in).
    public static let metresPerU = 0.04445
    /// The depth assumed when neither end records one, in millimetres.
    public static let defaultDepthMM = 600.0

    /// The estimated length, metres, 2 dp.
    /// - Parameters:
    ///   - fromStartU: one end's `start_u`.
    ///   - toStartU: the other end's `start_u`.
    ///   - depthMM: the depth to cross; `nil` uses 600 mm.
    ///   - routing: how the cable is run.
    public static func estimate(fromStartU: Int, toStartU: Int, depthMM: Double?, routing: RoutingPath) -> Double {
        let vertical = Double(abs(toStartU - fromStartU)) * metresPerU
        let depth = (depthMM ?? defaultDepthMM) / 1000
        return ((vertical + depth) * routing.lengthMultiplier).rounded(toPlaces: 2)
    }

    /// The length a connection has: the recorded one, else an estimate when both ends are
    /// placed in the same rack, else `nil` (unknown).
    /// - Parameters:
    ///   - connection: the connection.
    ///   - from: the position of its `from` device, if placed.
    ///   - to: the position of its `to` device, if placed.
    public static func resolve(_ connection: Connection, from: RackPosition?, to: RackPosition?) -> Double? {
        if let recorded = connection.cableLengthM { return recorded }
        return estimate(connection.routingPath, from: from, to: to)
    }

    /// The length to store after an update.
    ///
    /// A length in the update wins; otherwise a change of routing re-estimates the length
    /// (when both ends share a rack), since the old figure was for the old route; otherwise
    /// the stored length stands.
    /// - Parameters:
    ///   - stored: the connection before the update.
    ///   - newLengthM: the update's `cable_length_m`, if given.
    ///   - newRouting: the update's `routing_path`, if given.
    ///   - from: the position of the `from` device, if placed.
    ///   - to: the position of the `to` device, if placed.
    public static func afterUpdate(
        _ stored: Connection, newLengthM: Double?, newRouting: RoutingPath?, from: RackPosition?, to: RackPosition?
    ) -> Double? {
        if let newLengthM { return newLengthM }
        if let newRouting, newRouting != stored.routingPath {
            return estimate(newRouting, from: from, to: to) ?? stored.cableLengthM
        }
        return stored.cableLengthM
    }

    private static func estimate(_ routing: RoutingPath, from: RackPosition?, to: RackPosition?) -> Double? {
        guard let from, let to, from.rackID == to.rackID else { return nil }
        let depths = [from, to].compactMap { $0.device?.physicalProfile?.depthMM }
        return estimate(fromStartU: from.startU, toStartU: to.startU, depthMM: depths.max(), routing: routing)
    }
}
