import Foundation

/// The schema's named unique and check constraints, and what each means to a client.
///
/// Drivers report a violated constraint differently (PostgreSQL by name; SQLite as
/// `UNIQUE constraint failed: brands.name`, `… index 'name'` or `CHECK constraint failed: name`),
/// so both are resolved here to one client-safe sentence for ``StoreError``.
enum ConstraintCatalog {
    struct Entry: Sendable {
        let name: String
        let table: String
        /// For unique constraints on plain columns: how SQLite names them (`table.column`).
        let columns: [String]
        let detail: String
    }

    static let entries: [Entry] = [
        Entry(
            name: "device_types_name_key", table: "device_types", columns: ["name"],
            detail: "A device type with this name already exists"),
        Entry(
            name: "device_types_slug_key", table: "device_types", columns: ["slug"],
            detail: "A device type with this slug already exists"),
        Entry(
            name: "brands_name_key", table: "brands", columns: ["name"],
            detail: "A brand with this name already exists"),
        Entry(
            name: "brands_slug_key", table: "brands", columns: ["slug"],
            detail: "A brand with this slug already exists"),
        Entry(
            name: "device_specifications_identity", table: "device_specifications", columns: [],
            detail: "A device specification with this brand, model and variant already exists"),
        Entry(
            name: "models_identity", table: "models", columns: [],
            detail: "A model with this name and variant already exists for this brand"),
        Entry(
            name: "rack_positions_device_key", table: "rack_positions", columns: ["device_id"],
            detail: "The device is already placed in a rack"),
        Entry(
            name: "racks_total_height_u_check", table: "racks", columns: [],
            detail: "total_height_u must be at least 1"),
        Entry(
            name: "devices_one_reference", table: "devices", columns: [],
            detail: "A device must reference exactly one of specification_id or model_id"),
        Entry(
            name: "rack_positions_start_u_check", table: "rack_positions", columns: [],
            detail: "start_u must be at least 1"),
        Entry(
            name: "connections_distinct_ends", table: "connections", columns: [],
            detail: "A connection must join two different devices"),
    ]

    /// The client-safe sentence for a constraint PostgreSQL names.
    static func detail(forConstraint name: String?) -> String? {
        guard let name else { return nil }
        return entries.first { $0.name == name }?.detail
    }

    /// The client-safe sentence for a SQLite constraint message, e.g.
    /// `UNIQUE constraint failed: brands.name` or `UNIQUE constraint failed: index 'models_identity'`.
    static func detail(forSQLiteMessage message: String) -> String? {
        guard let colon = message.range(of: "failed: ") else { return nil }
        let subject = String(message[colon.upperBound...]).trimmingCharacters(in: .whitespaces)
        if subject.hasPrefix("index '"), subject.hasSuffix("'") {
            return detail(forConstraint: String(subject.dropFirst("index '".count).dropLast()))
        }
        if let named = detail(forConstraint: subject) { return named }
        let pairs = subject.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let parsed = pairs.compactMap { pair -> (String, String)? in
            let parts = pair.split(separator: ".", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }
        guard parsed.count == pairs.count, let table = parsed.first?.0, parsed.allSatisfy({ $0.0 == table }) else {
            return nil
        }
        let columns = parsed.map(\.1)
        return entries.first { $0.table == table && !$0.columns.isEmpty && $0.columns == columns }?.detail
    }
}
