import RackPlanning

/// How much cable to buy for one connection: its routed length, a service loop at every
/// rack-mounted end, rounded up to a length sold off the shelf. The response of
/// `GET /api/connections/{id}/service-loop`.
///
/// **The formula is this project's, not the original's.** The original API exposes this
/// endpoint, but its reference (`rack-api.md`) gives no formula, so this one is defined here:
///
/// - routed length: the recorded `cable_length_m`, else ``CableLength``'s estimate when both
///   ends are placed in one rack, else unknown;
/// - service loop: ``slackPerRackEndM`` (0.3 m) at each end placed in a rack, the slack that
///   lets a device slide out on its rails without unplugging and keeps the bend at the port
///   gentle; an end not placed in a rack (a desk device, a wall jack) gets none;
/// - total: routed length + service loop, 2 dp;
/// - to buy: the total rounded up to the next of ``stockLengthsM`` (common patch-cord
///   lengths), or beyond the longest of them to the next multiple of ``bulkStepM`` (cut from
///   a reel).
///
/// With an unknown routed length, the total and the length to buy are unknown (`null`).
public struct ServiceLoop: Codable, Sendable, Hashable {
    /// Where the routed length comes from.
    public enum LengthSource: String, Codable, Sendable, Hashable {
        /// The connection's stored `cable_length_m` (entered, or estimated when it was saved).
        case recorded
        /// Estimated now from both ends' positions in one rack.
        case estimated
        /// Neither recorded nor estimable (an end unplaced, or the ends in different racks).
        case unknown
    }

    /// The slack left at each rack-mounted end, metres.
    public static let slackPerRackEndM = 0.3
    /// Patch-cord lengths commonly sold, metres, ascending.
    public static let stockLengthsM: [Double] = [0.5, 1, 1.5, 2, 3, 5, 7, 10, 15, 20, 25, 30, 50]
    /// Beyond the longest stock length, cable is cut to a multiple of this, metres.
    public static let bulkStepM = 10.0

    public var connectionID: Int
    public var cableType: CableType
    public var lengthSource: LengthSource
    public var routedLengthM: Double?
    /// How many ends (0-2) are placed in a rack and so get a service loop.
    public var rackMountedEnds: Int
    public var slackPerEndM: Double
    /// `rackMountedEnds × slackPerEndM`.
    public var serviceLoopM: Double
    /// Routed length plus service loop; `nil` when the routed length is unknown.
    public var totalLengthM: Double?
    /// The cable to buy: ``totalLengthM`` rounded up to a purchasable length.
    public var purchaseLengthM: Double?

    /// The plan for `connection`.
    /// - Parameters:
    ///   - connection: the cable.
    ///   - from: the position of its `from` device, if placed.
    ///   - to: the position of its `to` device, if placed.
    public init(_ connection: Connection, from: RackPosition?, to: RackPosition?) {
        let routed = CableLength.resolve(connection, from: from, to: to)
        connectionID = connection.id
        cableType = connection.cableType
        lengthSource = connection.cableLengthM != nil ? .recorded : (routed != nil ? .estimated : .unknown)
        routedLengthM = routed
        rackMountedEnds = [from, to].compactMap { $0 }.count
        slackPerEndM = Self.slackPerRackEndM
        serviceLoopM = Self.centimetres(Double(rackMountedEnds) * Self.slackPerRackEndM)
        totalLengthM = routed.map { Self.centimetres($0 + serviceLoopM) }
        purchaseLengthM = totalLengthM.map(Self.purchasableLength)
    }

    /// The shortest length that can be bought and is at least `lengthM`.
    /// - Parameter lengthM: the length needed, metres (≥ 0).
    /// - Returns: the next of ``stockLengthsM`` at or above it, else the next multiple of
    ///   ``bulkStepM``.
    public static func purchasableLength(_ lengthM: Double) -> Double {
        // Lengths are in whole centimetres; the tolerance keeps 1.0000000001 from buying 1.5 m.
        let needed = lengthM - 1e-9
        if let stock = stockLengthsM.first(where: { $0 >= needed }) { return stock }
        return (needed / bulkStepM).rounded(.up) * bulkStepM
    }

    /// `value` to 2 dp, the precision every length of the API has.
    private static func centimetres(_ value: Double) -> Double {
        (value * 100).rounded() / 100
    }

    enum CodingKeys: String, CodingKey {
        case connectionID = "connection_id"
        case cableType = "cable_type"
        case lengthSource = "length_source"
        case routedLengthM = "routed_length_m"
        case rackMountedEnds = "rack_mounted_ends"
        case slackPerEndM = "slack_per_end_m"
        case serviceLoopM = "service_loop_m"
        case totalLengthM = "total_length_m"
        case purchaseLengthM = "purchase_length_m"
    }

    /// Writes unknown lengths as `null` rather than leaving the keys out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(connectionID, forKey: .connectionID)
        try container.encode(cableType, forKey: .cableType)
        try container.encode(lengthSource, forKey: .lengthSource)
        try container.encode(routedLengthM, forKey: .routedLengthM)
        try container.encode(rackMountedEnds, forKey: .rackMountedEnds)
        try container.encode(slackPerEndM, forKey: .slackPerEndM)
        try container.encode(serviceLoopM, forKey: .serviceLoopM)
        try container.encode(totalLengthM, forKey: .totalLengthM)
        try container.encode(purchaseLengthM, forKey: .purchaseLengthM)
    }
}
