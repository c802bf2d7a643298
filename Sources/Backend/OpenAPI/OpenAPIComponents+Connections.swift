import RackPlanning

private typealias S = OpenAPISchema

/// Connections and the cable reports (`rack-api.md` §2, §7).
extension OpenAPIComponents {
    static let connection = OpenAPIRecordSchemas(
        name: "Connection",
        description: "A cable between two devices' ports.",
        writable: [
            "from_device_id": S.integer(),
            "to_device_id": S.integer(),
            "from_port": S.string().nullable,
            "to_port": S.string().nullable,
            "cable_type": S.enumeration(CableType.self, default: .cat6),
            "cable_length_m": S.number(
                0...Connection.maximumCableLengthM,
                "Metres; estimated when left out and both ends are placed in one rack."
            ).nullable,
            "routing_path": S.enumeration(RoutingPath.self, default: .direct),
            "notes": S.string().nullable,
        ],
        serverSet: ["id": S.id, "from_device": S.ref("Device"), "to_device": S.ref("Device")],
        alwaysPresent: ["id", "from_device_id", "to_device_id", "cable_type", "routing_path"],
        requiredOnCreate: ["from_device_id", "to_device_id"],
        createNotes: "Each end must exist (404) and they must differ (400).")

    private static let issue = S.object(
        [
            "kind": S.constant(["tight_bend", "exceeds_maximum_length", "cat6_10g_reach"]),
            "severity": S.constant(["warning", "error"]),
            "message": S.string(),
        ],
        required: ["kind", "severity", "message"])

    static let connections: [String: OpenAPIJSON] = union(
        connection.schemas,
        [
            "CableCheck": S.object(
                [
                    "connection_id": S.id,
                    "valid": S.boolean("False when any issue is an error."),
                    "length_m": S.number(minimum: 0, "Recorded or estimated; absent when unknown."),
                    "issues": S.array(issue),
                ],
                required: ["connection_id", "valid", "issues"],
                "What is wrong, or worth a second look, with one cable."),
            "BulkCableValidation": S.object(
                [
                    "rack_id": S.integer().nullable,
                    "results": S.array(S.ref("CableCheck")),
                    "summary": S.object(
                        [
                            "total_connections": S.integer(minimum: 0),
                            "valid": S.integer(minimum: 0),
                            "invalid": S.integer(minimum: 0),
                            "with_issues": S.integer(minimum: 0),
                            "issues_by_severity": S.map(S.integer(minimum: 0)),
                        ],
                        required: ["total_connections", "valid", "invalid", "with_issues", "issues_by_severity"]),
                ],
                required: ["rack_id", "results", "summary"],
                "Every connection touching the rack (or every connection) checked."),
            "ServiceLoop": S.object(
                [
                    "connection_id": S.id,
                    "cable_type": S.enumeration(CableType.self),
                    "length_source": S.constant(["recorded", "estimated", "unknown"]),
                    "routed_length_m": S.number(minimum: 0).nullable,
                    "rack_mounted_ends": S.integer(0...2),
                    "slack_per_end_m": S.number(minimum: 0),
                    "service_loop_m": S.number(minimum: 0),
                    "total_length_m": S.number(minimum: 0).nullable,
                    "purchase_length_m": S.number(minimum: 0, "The stock length to buy.").nullable,
                ],
                required: [
                    "connection_id", "cable_type", "length_source", "routed_length_m", "rack_mounted_ends",
                    "slack_per_end_m", "service_loop_m", "total_length_m", "purchase_length_m",
                ],
                "The slack to leave at each rack-mounted end, and the cable length to buy."),
            "BillOfMaterials": S.object(
                [
                    "cables": S.array(
                        S.object(
                            [
                                "connection_id": S.id,
                                "from_device": S.string(),
                                "to_device": S.string(),
                                "cable_type": S.enumeration(CableType.self),
                                "length_m": S.number(minimum: 0, "Absent when unknown."),
                                "quantity": S.integer(minimum: 1),
                            ],
                            required: ["connection_id", "from_device", "to_device", "cable_type", "quantity"])),
                    "cable_summary": S.map(
                        S.integer(minimum: 1), "Count per `\"<type> <length rounded up>m\"`, e.g. `{\"Cat6 2m\": 3}`."),
                    "total_cables": S.integer(minimum: 0),
                    "total_cost": S.number("No prices are known: always null.").nullable,
                ],
                required: ["cables", "cable_summary", "total_cables", "total_cost"],
                "The cables to buy for a rack: every connection with at least one end placed in it."),
        ])
}
