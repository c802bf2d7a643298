/// Two neighbouring devices blowing in opposite directions, so one breathes the other's exhaust.
public struct AirflowConflict: Codable, Sendable, Hashable {
    /// One side of a conflict.
    public struct Party: Codable, Sendable, Hashable {
        public var id: Int
        public var name: String
        /// "U<start_u>".
        public var position: String
        public var airflow: AirflowPattern

        public init(id: Int, name: String, position: String, airflow: AirflowPattern) {
            self.id = id
            self.name = name
            self.position = position
            self.airflow = airflow
        }
    }

    /// Always `opposing_airflow`.
    public var type: String
    /// Always `high`.
    public var severity: String
    /// The lower of the two (by `start_u`).
    public var device1: Party
    public var device2: Party
    public var message: String

    public init(device1: Party, device2: Party) {
        type = "opposing_airflow"
        severity = "high"
        self.device1 = device1
        self.device2 = device2
        message = "Adjacent devices have opposing airflow patterns, causing hot air recirculation"
    }

    /// The conflicts between consecutive devices.
    ///
    /// Devices are taken in `start_u` order (equal starts keep the positions' order) and each
    /// consecutive pair is compared, however far apart they are: front-to-back beside
    /// back-to-front, either way up, conflicts. Side-to-side and passive devices never do; a
    /// device with no recorded pattern counts as front to back.
    static func find(in positions: [RackPosition]) -> [AirflowConflict] {
        let ordered = positions.enumerated()
            .sorted { ($0.element.startU, $0.offset) < ($1.element.startU, $1.offset) }
            .map(\.element)
        guard ordered.count > 1 else { return [] }
        var conflicts: [AirflowConflict] = []
        for index in 0..<(ordered.count - 1) {
            let lower = party(ordered[index])
            let upper = party(ordered[index + 1])
            let opposing: Set<AirflowPattern> = [.frontToBack, .backToFront]
            if lower.airflow != upper.airflow, opposing.contains(lower.airflow), opposing.contains(upper.airflow) {
                conflicts.append(AirflowConflict(device1: lower, device2: upper))
            }
        }
        return conflicts
    }

    private static func party(_ position: RackPosition) -> Party {
        Party(
            id: position.deviceID,
            name: position.device?.displayName ?? "Device \(position.deviceID)",
            position: position.label,
            airflow: position.device?.physicalProfile?.airflow ?? .frontToBack)
    }
}
