/// A cable between two devices' ports.
public struct Connection: Codable, Sendable, Hashable {
    public var id: Int
    public var fromDeviceID: Int
    public var toDeviceID: Int
    public var fromPort: String?
    public var toPort: String?
    public var cableType: CableType
    /// Metres; when absent and both ends share a rack, ``CableLength`` estimates it.
    public var cableLengthM: Double?
    public var routingPath: RoutingPath
    public var notes: String?
    public var fromDevice: Device?
    public var toDevice: Device?

    public init(
        id: Int,
        fromDeviceID: Int,
        toDeviceID: Int,
        fromPort: String? = nil,
        toPort: String? = nil,
        cableType: CableType = .cat6,
        cableLengthM: Double? = nil,
        routingPath: RoutingPath = .direct,
        notes: String? = nil,
        fromDevice: Device? = nil,
        toDevice: Device? = nil
    ) {
        self.id = id
        self.fromDeviceID = fromDeviceID
        self.toDeviceID = toDeviceID
        self.fromPort = fromPort
        self.toPort = toPort
        self.cableType = cableType
        self.cableLengthM = cableLengthM
        self.routingPath = routingPath
        self.notes = notes
        self.fromDevice = fromDevice
        self.toDevice = toDevice
    }

    enum CodingKeys: String, CodingKey {
        case id
        case fromDeviceID = "from_device_id"
        case toDeviceID = "to_device_id"
        case fromPort = "from_port"
        case toPort = "to_port"
        case cableType = "cable_type"
        case cableLengthM = "cable_length_m"
        case routingPath = "routing_path"
        case notes
        case fromDevice = "from_device"
        case toDevice = "to_device"
    }
}
