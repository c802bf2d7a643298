/// How a column's values travel between engines: SQLite hands booleans back as integers and
/// may return a whole `REAL` as an integer, so a copy converts by the declared kind.
enum ColumnKind: Sendable {
    case integer
    case real
    case text
    case bool

    /// `value` as this kind, for binding into a column of it.
    func coerce(_ value: DatabaseValue) -> DatabaseValue {
        if value.isNull { return .null }
        switch self {
        case .integer: return value.intValue.map { .integer(Int64($0)) } ?? value
        case .real: return value.doubleValue.map { .real($0) } ?? value
        case .text: return value
        case .bool: return value.boolValue.map { .bool($0) } ?? value
        }
    }
}

/// One table of the current schema: its columns in order, as the copy reads and writes them.
struct TableDefinition: Sendable {
    let name: String
    let columns: [(name: String, kind: ColumnKind)]

    var columnNames: [String] { columns.map(\.name) }
}

/// The tables of the latest schema version, parents before children.
///
/// The order is the foreign-key dependency order a copy inserts in (and the reverse is the
/// order to empty them in). A test checks this catalog against the migrated schema of both
/// engines, so a migration that adds a column without updating it fails.
enum TableCatalog {
    static let racks = TableDefinition(
        name: "racks",
        columns: [
            ("id", .integer), ("name", .text), ("location", .text), ("total_height_u", .integer),
            ("width_inches", .text), ("depth_mm", .real), ("max_weight_kg", .real), ("max_power_watts", .real),
            ("cooling_type", .text), ("cooling_capacity_btu", .real), ("ambient_temp_c", .real),
            ("max_inlet_temp_c", .real), ("airflow_cfm", .real), ("created_at", .text), ("updated_at", .text),
        ])

    static let deviceSpecifications = TableDefinition(
        name: "device_specifications",
        columns: [
            ("id", .integer), ("brand", .text), ("model", .text), ("variant", .text), ("height_u", .real),
            ("width_type", .text), ("depth_mm", .real), ("weight_kg", .real), ("power_watts", .real),
            ("heat_output_btu", .real), ("airflow_pattern", .text), ("max_operating_temp_c", .real),
            ("typical_ports", .text), ("mounting_type", .text), ("source", .text), ("source_url", .text),
            ("confidence", .text), ("fetched_at", .text), ("last_updated", .text),
        ])

    static let deviceTypes = TableDefinition(
        name: "device_types",
        columns: [
            ("id", .integer), ("name", .text), ("slug", .text), ("icon", .text), ("description", .text),
            ("color", .text), ("created_at", .text), ("updated_at", .text),
        ])

    static let brands = TableDefinition(
        name: "brands",
        columns: [
            ("id", .integer), ("name", .text), ("slug", .text), ("website", .text), ("support_url", .text),
            ("logo_url", .text), ("description", .text), ("founded_year", .integer), ("headquarters", .text),
            ("last_fetched_at", .text), ("fetch_confidence", .text), ("fetch_source", .text),
            ("created_at", .text), ("updated_at", .text),
        ])

    static let models = TableDefinition(
        name: "models",
        columns: [
            ("id", .integer), ("brand_id", .integer), ("device_type_id", .integer), ("name", .text),
            ("variant", .text), ("description", .text), ("release_date", .text), ("end_of_life", .text),
            ("height_u", .real), ("width_type", .text), ("depth_mm", .real), ("weight_kg", .real),
            ("power_watts", .real), ("heat_output_btu", .real), ("airflow_pattern", .text),
            ("max_operating_temp_c", .real), ("typical_ports", .text), ("mounting_type", .text),
            ("datasheet_url", .text), ("image_url", .text), ("source", .text), ("confidence", .text),
            ("fetched_at", .text), ("last_updated", .text),
        ])

    static let devices = TableDefinition(
        name: "devices",
        columns: [
            ("id", .integer), ("custom_name", .text), ("specification_id", .integer), ("model_id", .integer),
            ("serial_number", .text), ("access_frequency", .text), ("notes", .text),
        ])

    static let rackPositions = TableDefinition(
        name: "rack_positions",
        columns: [
            ("id", .integer), ("rack_id", .integer), ("device_id", .integer), ("start_u", .integer),
            ("locked", .bool),
        ])

    static let connections = TableDefinition(
        name: "connections",
        columns: [
            ("id", .integer), ("from_device_id", .integer), ("to_device_id", .integer), ("from_port", .text),
            ("to_port", .text), ("cable_type", .text), ("cable_length_m", .real), ("routing_path", .text),
            ("notes", .text),
        ])

    /// Every data table, parents first (`schema_migrations` is each database's own).
    static let all: [TableDefinition] = [
        racks, deviceSpecifications, deviceTypes, brands, models, devices, rackPositions, connections,
    ]
}
