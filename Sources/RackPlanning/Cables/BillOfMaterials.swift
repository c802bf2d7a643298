/// The cables to buy for a rack: every connection with at least one end placed in it.
///
/// The response of `GET /racks/{id}/bom`. Lengths are the recorded ones, else estimated when
/// both ends share a rack; the summary counts cables per `"<type> <length rounded up>m"`
/// (stock lengths are whole metres), or `"<type> unknown length"` when the length is unknown.
/// No prices are known, so `total_cost` is null.
public struct BillOfMaterials: Codable, Sendable, Hashable {
    /// One cable to buy.
    public struct Line: Codable, Sendable, Hashable {
        public var connectionID: Int
        public var fromDevice: String
        public var toDevice: String
        public var cableType: CableType
        public var lengthM: Double?
        public var quantity: Int

        public init(
            connectionID: Int, fromDevice: String, toDevice: String, cableType: CableType, lengthM: Double?,
            quantity: Int = 1
        ) {
            self.connectionID = connectionID
            self.fromDevice = fromDevice
            self.toDevice = toDevice
            self.cableType = cableType
            self.lengthM = lengthM
            self.quantity = quantity
        }

        /// The summary key: `"Cat6 2m"` for 1.44 m, `"Fiber-SM unknown length"` without one.
        public var summaryKey: String {
            guard let lengthM else { return "\(cableType.rawValue) unknown length" }
            return "\(cableType.rawValue) \(Int(lengthM.rounded(.up)))m"
        }

        enum CodingKeys: String, CodingKey {
            case connectionID = "connection_id"
            case fromDevice = "from_device"
            case toDevice = "to_device"
            case cableType = "cable_type"
            case lengthM = "length_m"
            case quantity
        }
    }

    /// In connection-id order.
    public var cables: [Line]
    public var cableSummary: [String: Int]
    public var totalCables: Int
    public var totalCost: Double?

    /// The bill for rack `rackID`.
    /// - Parameters:
    ///   - rackID: the rack.
    ///   - connections: connections to consider; those with neither end in the rack are ignored.
    ///   - positions: the positions of the connected devices, in any rack, with devices
    ///     embedded (for names and depths).
    public init(rackID: Int, connections: [Connection], positions: [RackPosition]) {
        let byDevice = PositionIndex(positions)
        func name(_ device: Device?, _ id: Int) -> String {
            (device ?? byDevice[id]?.device)?.displayName ?? "Device \(id)"
        }
        cables = connections.sorted { $0.id < $1.id }.compactMap { connection in
            let from = byDevice[connection.fromDeviceID]
            let to = byDevice[connection.toDeviceID]
            guard from?.rackID == rackID || to?.rackID == rackID else { return nil }
            return Line(
                connectionID: connection.id,
                fromDevice: name(connection.fromDevice, connection.fromDeviceID),
                toDevice: name(connection.toDevice, connection.toDeviceID),
                cableType: connection.cableType,
                lengthM: CableLength.resolve(connection, from: from, to: to))
        }
        cableSummary = cables.reduce(into: [:]) { $0[$1.summaryKey, default: 0] += $1.quantity }
        totalCables = cables.reduce(0) { $0 + $1.quantity }
        totalCost = nil
    }

    /// Writes `"total_cost": null` rather than leaving the key out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(cables, forKey: .cables)
        try container.encode(cableSummary, forKey: .cableSummary)
        try container.encode(totalCables, forKey: .totalCables)
        try container.encode(totalCost, forKey: .totalCost)
    }

    enum CodingKeys: String, CodingKey {
        case cables
        case cableSummary = "cable_summary"
        case totalCables = "total_cables"
        case totalCost = "total_cost"
    }
}
