import RackPlanning

private typealias S = OpenAPISchema

/// Thermal analysis and layout optimization (`rack-api.md` §5, §6).
extension OpenAPIComponents {
    private static let zone = S.enumeration(ThermalZone.self)

    private static let conflictParty = S.object(
        ["id": S.id, "name": S.string(), "position": S.string(), "airflow": S.enumeration(AirflowPattern.self)],
        required: ["id", "name", "position", "airflow"])

    /// The four factor scores, each 0-1.
    private static let factors: [String: OpenAPIJSON] = [
        "cable_management": S.number(0...1),
        "weight_distribution": S.number(0...1),
        "thermal_management": S.number(0...1),
        "access_frequency": S.number(0...1),
    ]

    static let analysis: [String: OpenAPIJSON] = [
        "ThermalAnalysis": S.object(
            [
                "rack_id": S.id,
                "rack_name": S.string(),
                "heat_distribution": S.object(
                    [
                        "total_heat_btu_hr": S.number(minimum: 0),
                        "total_power_watts": S.number(minimum: 0),
                        "bottom_zone_btu": S.number(minimum: 0),
                        "middle_zone_btu": S.number(minimum: 0),
                        "top_zone_btu": S.number(minimum: 0),
                        "device_count": S.integer(minimum: 0),
                    ],
                    required: [
                        "total_heat_btu_hr", "total_power_watts", "bottom_zone_btu", "middle_zone_btu",
                        "top_zone_btu", "device_count",
                    ]),
                "cooling_efficiency": S.object(
                    [
                        "cooling_capacity_btu_hr": S.number(minimum: 0),
                        "cooling_capacity_tons": S.number(minimum: 0),
                        "heat_load_btu_hr": S.number(minimum: 0),
                        "utilization_percent": S.number(minimum: 0),
                        "remaining_capacity_btu_hr": S.number(minimum: 0),
                        "remaining_capacity_tons": S.number(minimum: 0),
                        "status": S.enumeration(
                            CoolingEfficiency.Status.self,
                            "<70 % optimal, <85 % acceptable, <100 % warning, else critical."),
                    ],
                    required: [
                        "cooling_capacity_btu_hr", "cooling_capacity_tons", "heat_load_btu_hr", "utilization_percent",
                        "remaining_capacity_btu_hr", "remaining_capacity_tons", "status",
                    ]),
                "hot_spots": S.array(
                    S.object(
                        [
                            "device_id": S.id,
                            "device_name": S.string(),
                            "position": S.string("`U<start_u>`."),
                            "zone": zone,
                            "heat_output_btu_hr": S.number(minimum: 0),
                            "power_watts": S.number(minimum: 0),
                            "airflow_pattern": S.enumeration(AirflowPattern.self),
                            "severity": S.constant(["medium", "high"]),
                        ],
                        required: [
                            "device_id", "device_name", "position", "zone", "heat_output_btu_hr", "power_watts",
                            "airflow_pattern", "severity",
                        ]),
                    "Devices giving off ≥ 1000 BTU/hr, hottest first."),
                "airflow_conflicts": S.array(
                    S.object(
                        [
                            "type": S.constant(["opposing_airflow"]),
                            "severity": S.constant(["high"]),
                            "device1": conflictParty,
                            "device2": conflictParty,
                            "message": S.string(),
                        ],
                        required: ["type", "severity", "device1", "device2", "message"])),
                "recommendations": S.array(S.string()),
                "timestamp": S.timestamp,
            ],
            required: [
                "rack_id", "rack_name", "heat_distribution", "cooling_efficiency", "hot_spots", "airflow_conflicts",
                "recommendations", "timestamp",
            ],
            "A rack's heat per zone, cooling headroom, hot spots, airflow conflicts and advice."),
        "OptimizationWeights": S.object(
            [
                "cable": S.number(0...1, default: 0.30),
                "weight": S.number(0...1, default: 0.25),
                "thermal": S.number(0...1, default: 0.25),
                "access": S.number(0...1, default: 0.20),
            ],
            "Each 0-1; together they must sum to 1 within 0.01 (422 otherwise). Left out: the defaults."),
        "OptimizationRequest": S.object(
            [
                "locked_positions": S.array(S.integer(), "Device ids that keep their current `start_u`."),
                "weights": S.ref("OptimizationWeights"),
            ],
            "An empty body (or `{}`) asks for no locked devices and the default weights."),
        "OptimizationResult": S.object(
            [
                "positions": S.array(S.ref("RackPosition"), "Proposed positions (`id` null), never saved."),
                "score": S.object(
                    OpenAPIJSON.object(factors).merging(["total": S.number(0...1)]).members,
                    required: factors.keys.sorted() + ["total"]),
                "improvements": S.array(S.string()),
                "metadata": S.object(
                    [
                        "algorithm": S.string(),
                        "alternatives_evaluated": S.integer(minimum: 0),
                        "devices_placed": S.integer(minimum: 0),
                        "total_devices": S.integer(minimum: 0),
                        "current_score": S.number(0...1).nullable,
                        "optimized_score": S.number(0...1),
                        "improvement_percentage": S.number().nullable,
                        "weights": S.ref("OptimizationWeights"),
                        "score_breakdown": S.object(factors, required: factors.keys.sorted()),
                    ],
                    required: [
                        "algorithm", "alternatives_evaluated", "devices_placed", "total_devices", "current_score",
                        "optimized_score", "improvement_percentage", "weights", "score_breakdown",
                    ]),
            ],
            required: ["positions", "score", "improvements", "metadata"],
            "A proposed layout and its scores; nothing is saved."),
    ]
}
