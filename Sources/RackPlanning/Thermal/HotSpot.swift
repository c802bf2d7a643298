/// A device giving off at least 1 000 BTU/hr: worth keeping an eye on its neighbours.
public struct HotSpot: Codable, Sendable, Hashable {
    /// The heat at which a device is listed as a hot spot, BTU/hr.
    public static let threshold = 1_000.0
    /// The heat at which a hot spot is `high` rather than `medium`, BTU/hr.
    public static let highSeverityThreshold = 2_000.0

    public enum Severity: String, Codable, Sendable, Hashable {
        case medium
        case high
    }

    public var deviceID: Int
    /// The custom name, or "brand model".
    public var deviceName: String
    /// "U<start_u>".
    public var position: String
    public var zone: ThermalZone
    /// BTU/hr, 2 dp.
    public var heatOutputBTUHr: Double
    public var powerWatts: Double
    public var airflowPattern: AirflowPattern
    public var severity: Severity

    public init(
        deviceID: Int, deviceName: String, position: String, zone: ThermalZone, heatOutputBTUHr: Double,
        powerWatts: Double, airflowPattern: AirflowPattern, severity: Severity
    ) {
        self.deviceID = deviceID
        self.deviceName = deviceName
        self.position = position
        self.zone = zone
        self.heatOutputBTUHr = heatOutputBTUHr
        self.powerWatts = powerWatts
        self.airflowPattern = airflowPattern
        self.severity = severity
    }

    /// The positions' hot spots, hottest first (equal heat keeps the positions' order).
    static func find(in positions: [RackPosition], rack: Rack) -> [HotSpot] {
        let spots = positions.compactMap { position -> HotSpot? in
            guard let device = position.device, let profile = device.physicalProfile,
                profile.heatBTU >= threshold
            else { return nil }
            return HotSpot(
                deviceID: position.deviceID,
                deviceName: device.displayName,
                position: position.label,
                zone: ThermalZone(unit: position.startU, totalHeightU: rack.totalHeightU),
                heatOutputBTUHr: profile.heatBTU.rounded(toPlaces: 2),
                powerWatts: profile.powerWatts,
                airflowPattern: profile.airflow,
                severity: profile.heatBTU >= highSeverityThreshold ? .high : .medium)
        }
        return spots.enumerated()
            .sorted { ($0.element.heatOutputBTUHr, $1.offset) > ($1.element.heatOutputBTUHr, $0.offset) }
            .map(\.element)
    }

    enum CodingKeys: String, CodingKey {
        case deviceID = "device_id"
        case deviceName = "device_name"
        case position, zone
        case heatOutputBTUHr = "heat_output_btu_hr"
        case powerWatts = "power_watts"
        case airflowPattern = "airflow_pattern"
        case severity
    }
}
