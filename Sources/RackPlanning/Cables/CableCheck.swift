/// What is wrong, or worth a second look, with one cable.
///
/// Flags: ends 2U apart or less in one rack (a short jumper bent hard at both ends: leave a
/// service loop) as a warning; a length over the medium's reach (100 m copper, 550 m multi-mode,
/// 10 km single-mode) as an error, which makes the cable invalid; Cat6 over 50 m as a warning
/// (10GBASE-T on Cat6 only reaches 55 m). A cable of unknown length is not length-checked.
public struct CableCheck: Codable, Sendable, Hashable {
    /// One finding.
    public struct Issue: Codable, Sendable, Hashable {
        public enum Kind: String, Codable, Sendable, Hashable {
            case tightBend = "tight_bend"
            case exceedsMaximumLength = "exceeds_maximum_length"
            case cat6TenGigabitReach = "cat6_10g_reach"
        }

        public enum Severity: String, Codable, Sendable, Hashable {
            case warning
            case error
        }

        public var kind: Kind
        public var severity: Severity
        public var message: String

        public init(kind: Kind, severity: Severity, message: String) {
            self.kind = kind
            self.severity = severity
            self.message = message
        }
    }

    /// The highest `|Δstart_u|` flagged as a tight bend.
    public static let tightBendUnits = 2
    /// The Cat6 length above which 10GBASE-T is not assured, metres.
    public static let cat6TenGigabitLengthM = 50.0

    public var connectionID: Int
    /// False when any issue is an error.
    public var valid: Bool
    /// The recorded or estimated length, metres; `nil` when unknown.
    public var lengthM: Double?
    public var issues: [Issue]

    public init(connectionID: Int, lengthM: Double?, issues: [Issue]) {
        self.connectionID = connectionID
        self.valid = !issues.contains { $0.severity == .error }
        self.lengthM = lengthM
        self.issues = issues
    }

    /// Checks one connection.
    /// - Parameters:
    ///   - connection: the cable.
    ///   - from: the position of its `from` device, if placed.
    ///   - to: the position of its `to` device, if placed.
    public init(_ connection: Connection, from: RackPosition?, to: RackPosition?) {
        let length = CableLength.resolve(connection, from: from, to: to)
        var issues: [Issue] = []
        if let from, let to, from.rackID == to.rackID {
            let apart = abs(to.startU - from.startU)
            if apart <= Self.tightBendUnits {
                issues.append(
                    Issue(
                        kind: .tightBend, severity: .warning,
                        message: "Ends are \(apart)U apart; leave a service loop so the cable is not bent "
                            + "tighter than its minimum bend radius"))
            }
        }
        if let length, let limit = connection.cableType.maximumLengthM, length > limit {
            issues.append(
                Issue(
                    kind: .exceedsMaximumLength, severity: .error,
                    message: "\(connection.cableType.rawValue) runs are limited to "
                        + "\(DecimalFormatting.fixed(limit, places: 0)) m; this one is "
                        + "\(DecimalFormatting.fixed(length, places: 2)) m"))
        }
        if let length, connection.cableType == .cat6, length > Self.cat6TenGigabitLengthM {
            issues.append(
                Issue(
                    kind: .cat6TenGigabitReach, severity: .warning,
                    message: "Cat6 over 50 m may not carry 10GBASE-T (55 m reach); use Cat6a for 10G"))
        }
        self.init(connectionID: connection.id, lengthM: length, issues: issues)
    }

    /// Checks every connection, finding each end's position among `positions` (any rack).
    public static func checkAll(_ connections: [Connection], positions: [RackPosition]) -> [CableCheck] {
        let byDevice = PositionIndex(positions)
        return connections.map {
            CableCheck($0, from: byDevice[$0.fromDeviceID], to: byDevice[$0.toDeviceID])
        }
    }

    enum CodingKeys: String, CodingKey {
        case connectionID = "connection_id"
        case valid
        case lengthM = "length_m"
        case issues
    }
}
