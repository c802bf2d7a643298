import Limits
import Yams

extension ConfigLoader {
    static let limitsKeys = [
        "max_body_size", "connections_per_client", "connection_table_capacity", "rate_limit_status",
        "connection_limit_status", "aggregate_ipv6_by_64", "zones",
    ]

    /// A zone's default capacity: what nginx keeps in a 10 MB `limit_req_zone` (about 16,000
    /// 64-byte states per megabyte), the size the HomeRack front used.
    static let defaultZoneCapacity = 160_000

    /// What `limits:` yielded.
    struct LimitsSection {
        var config = LimitsConfig()
        /// Every zone name written, including zones whose settings have problems, so routes
        /// naming them are not reported as unknown too; `nil` when `zones:` could not be read.
        var zoneNames: [String]? = []
    }

    /// `limits:`, the body size and per-client limits, with the rate zones.
    static func readLimits(_ node: Node, at path: ConfigKeyPath, reader: ConfigReader) -> LimitsSection {
        var section = LimitsSection()
        guard let mapping = reader.mapping(node, at: path, keys: limitsKeys) else {
            section.zoneNames = nil
            return section
        }
        if let value = reader.optional(mapping, "max_body_size", maxBodySize) { section.config.maxBodySize = value }
        if let node = mapping["connections_per_client"] {
            if let value = reader.value(node, at: path.appending("connections_per_client"), connectionsPerClient) {
                section.config.connectionsPerClient = value
            }
        }
        if let value = reader.optional(
            mapping, "connection_table_capacity",
            { text throws(ConfigValueError) in
                try ConfigValues.integer(text, in: 1...100_000_000)
            })
        {
            section.config.connectionTableCapacity = value
        }
        let limitStatus = { (text: String) throws(ConfigValueError) -> Int in
            let status = try ConfigValues.integer(text, in: 100...599)
            guard status == 429 || status == 503 else {
                throw ConfigValueError(
                    "\(status) is not allowed; use 429 (Too Many Requests) or 503 (Service Unavailable, as nginx)")
            }
            return status
        }
        if let value = reader.optional(mapping, "rate_limit_status", limitStatus) {
            section.config.rateLimitStatus = value
        }
        if let value = reader.optional(mapping, "connection_limit_status", limitStatus) {
            section.config.connectionLimitStatus = value
        }
        if let value = reader.optional(mapping, "aggregate_ipv6_by_64", ConfigValues.bool) {
            section.config.aggregateIPv6By64 = value
        }
        if let node = mapping["zones"] {
            (section.config.zones, section.zoneNames) = readZones(node, at: path.appending("zones"), reader: reader)
        }
        return section
    }

    /// nginx's `client_max_body_size`, but 0 is refused: nginx reads it as "no limit", which is
    /// the opposite of what the number says, and the edge always wants a bound.
    private static func maxBodySize(_ text: String) throws(ConfigValueError) -> Int {
        if text == "0" || text == "off" {
            throw ConfigValueError(
                "'\(text)' would be no limit in nginx; the edge needs one: give the largest body to accept, e.g. 10m (up to 1024g)"
            )
        }
        return try ConfigValues.size(text, in: 1...(1 << 40))
    }

    /// A number, or `off` for no per-client cap (`nil`).
    private static func connectionsPerClient(_ text: String) throws(ConfigValueError) -> Int? {
        if text == "off" || text == "false" { return nil }
        do {
            return try ConfigValues.integer(text, in: 1...1_000_000)
        } catch {
            throw ConfigValueError("\(error.message), or off for no limit")
        }
    }

    /// `zones:`, rate zones by name: `{rate: 10r/s, capacity: 160000}`.
    private static func readZones(
        _ node: Node, at path: ConfigKeyPath, reader: ConfigReader
    ) -> ([String: ZoneConfig], [String]?) {
        guard let entries = reader.entries(node, at: path) else { return ([:], nil) }
        var zones: [String: ZoneConfig] = [:]
        var names: [String] = []
        for entry in entries {
            let zonePath = path.appending(entry.key)
            names.append(entry.key)
            do {
                _ = try name(kind: "zone")(entry.key)
            } catch {
                reader.report(zonePath, entry.keyNode, error.message)
                continue
            }
            guard let mapping = reader.mapping(entry.value, at: zonePath, keys: ["rate", "capacity", "shared"]) else { continue }
            let rate = reader.required(mapping, "rate", hint: "write the steady rate per client, e.g. rate: 10r/s") {
                text throws(ConfigValueError) in
                do throws(LimitsError) {
                    return try Rate(parsing: text)
                } catch {
                    throw ConfigValueError(error.description)
                }
            }
            let capacity = reader.optional(mapping, "capacity") { text throws(ConfigValueError) in
                try ConfigValues.integer(text, in: 1...100_000_000)
            }
            var shared: SharedZoneConfig?
            var sharedIsValid = true
            if let node = mapping["shared"] {
                shared = readSharedZone(node, at: zonePath.appending("shared"), reader: reader)
                sharedIsValid = shared != nil
            }
            if let rate, sharedIsValid {
                zones[entry.key] = ZoneConfig(rate: rate, capacity: capacity ?? defaultZoneCapacity, shared: shared)
            }
        }
        return (zones, names)
    }
}
