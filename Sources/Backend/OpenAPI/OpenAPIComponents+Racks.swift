import RackPlanning

private typealias S = OpenAPISchema

/// Racks, their positions and layout (`rack-api.md` §2, §3, §4).
extension OpenAPIComponents {
    static let rack = OpenAPIRecordSchemas(
        name: "Rack",
        description: "A rack: its size, limits and cooling.",
        writable: [
            "name": S.string(length: 1...200),
            "location": S.string().nullable,
            "total_height_u": S.integer(1...100, default: 42, "Height in rack units."),
            "width_inches": S.enumeration(RackWidth.self, default: .nineteenInch),
            "depth_mm": S.number(200...1500, default: 700),
            "max_weight_kg": S.number(0...2000, default: 500),
            "max_power_watts": S.number(0...50_000, default: 5000),
            "cooling_type": S.string(default: "front-to-back"),
            "cooling_capacity_btu": S.number(
                0...100_000, default: 17_000, "BTU/hr; analyses assume 17 000 when it is null or 0."
            ).nullable,
            "ambient_temp_c": S.number(10...35, default: 22),
            "max_inlet_temp_c": S.number(15...40, default: 27),
            "airflow_cfm": S.number(minimum: 0).nullable,
        ],
        serverSet: ["id": S.id, "created_at": S.timestamp, "updated_at": S.timestamp],
        alwaysPresent: [
            "id", "name", "total_height_u", "width_inches", "depth_mm", "max_weight_kg", "max_power_watts",
            "cooling_type", "ambient_temp_c", "max_inlet_temp_c",
        ],
        requiredOnCreate: ["name"])

    static let racks = union(
        rack.schemas,
        [
            "RackPosition": S.object(
                [
                    "id": S.integer(
                        minimum: 1, "The position's id; null in an optimization's proposed positions, never saved."
                    ).nullable,
                    "rack_id": S.id,
                    "device_id": S.id,
                    "start_u": S.integer(1...100, "The bottom U the device occupies (U1 is the bottom)."),
                    "locked": S.boolean("Only guides the optimizer, which keeps locked devices in place."),
                    "device": S.ref("Device"),
                ],
                required: ["id", "rack_id", "device_id", "start_u", "locked"],
                "A device mounted in a rack, occupying `start_u` … `start_u + height_u - 1`."),
            "RackPositionCreate": S.object(
                [
                    "device_id": S.integer(),
                    "start_u": S.integer(1...100),
                    "locked": S.boolean(default: false),
                ],
                required: ["device_id", "start_u"],
                "Places a device. Checked in order: rack 404, device 404, bounds 400 "
                    + "(`start_u + height_u - 1 ≤ total_height_u`), width 400, overlap 409, device already placed 409."),
            "RackPositionUpdate": S.object(
                ["start_u": S.integer(1...100), "locked": S.boolean()],
                "A partial update of a position; a new `start_u` goes through the placement rules again."),
            "DeviceMove": S.object(
                [
                    "rack_id": S.integer("The rack to move the device to (may be its current one)."),
                    "start_unit": S.integer(1...100, "The new `start_u`."),
                ],
                required: ["rack_id", "start_unit"],
                "Moves a placed or unplaced device to a rack and U; the placement rules apply, "
                    + "ignoring the device's own current position."),
            "RackLayout": S.object(
                [
                    "rack": S.ref("Rack"),
                    "positions": S.array(S.ref("RackPosition")),
                    "utilization_percent": S.number(minimum: 0, "Σ height_u ÷ total_height_u × 100, 2 dp."),
                    "total_weight_kg": S.number(minimum: 0, "2 dp; unknown weights count as 0."),
                    "total_power_watts": S.number(minimum: 0, "2 dp; unknown power draws count as 0."),
                ],
                required: ["rack", "positions", "utilization_percent", "total_weight_kg", "total_power_watts"],
                "A rack with its positions (devices embedded) and totals."),
        ])
}
