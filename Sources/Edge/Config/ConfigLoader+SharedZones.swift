import Yams

extension ConfigLoader {
    static let sharedZoneKeys = ["redis", "mode", "sync_interval", "timeout", "failures", "retry_interval"]

    /// `shared:` of a zone: `{redis: "redis://127.0.0.1:6379", mode: batched, sync_interval: 10ms}`
    /// (or `mode: strict`, where Redis decides each request).
    /// - Returns: `nil` after reporting what is wrong.
    static func readSharedZone(_ node: Node, at path: ConfigKeyPath, reader: ConfigReader) -> SharedZoneConfig? {
        guard let mapping = reader.mapping(node, at: path, keys: sharedZoneKeys) else { return nil }
        let problemsBefore = reader.problems.count
        // Every key is read even when `redis` is wrong, so one `--check` lists every problem.
        let redis = reader.required(
            mapping, "redis", hint: "write the Redis every edge shares, e.g. redis: \"redis://127.0.0.1:6379\"",
            RedisAddress.init(parsing:))
        var config = SharedZoneConfig(redis: redis ?? RedisAddress(host: "127.0.0.1"))
        if let mode = reader.optional(mapping, "mode", parseMode) { config.mode = mode }
        if let value = reader.optional(
            mapping, "sync_interval", boundedDuration(.milliseconds(1)...(.seconds(10)), "the time between two syncs"))
        {
            config.syncInterval = value
        }
        if let value = reader.optional(
            mapping, "timeout", boundedDuration(.milliseconds(1)...(.seconds(10)), "the Redis connect and command timeout"))
        {
            config.timeout = value
        }
        if let value = reader.optional(mapping, "failures", { text throws(ConfigValueError) in
            try ConfigValues.integer(text, in: 1...1000)
        }) {
            config.failures = value
        }
        if let value = reader.optional(
            mapping, "retry_interval", boundedDuration(.milliseconds(10)...(.seconds(3600)), "the time between attempts to reach Redis again"))
        {
            config.retryInterval = value
        }
        return redis != nil && reader.problems.count == problemsBefore ? config : nil
    }

    /// A duration within `range`; `what` names it in the message.
    private static func boundedDuration(
        _ range: ClosedRange<Duration>, _ what: String
    ) -> (String) throws(ConfigValueError) -> Duration {
        { text throws(ConfigValueError) -> Duration in
            let value = try ConfigValues.duration(text)
            guard range.contains(value) else {
                throw ConfigValueError(
                    "'\(text)' is out of range; \(what) must be \(ConfigValues.format(range.lowerBound)) to \(ConfigValues.format(range.upperBound))"
                )
            }
            return value
        }
    }

    /// `mode:`: `batched` or `strict`.
    private static func parseMode(_ text: String) throws(ConfigValueError) -> SharedZoneConfig.Mode {
        if let mode = SharedZoneConfig.Mode(rawValue: text) { return mode }
        let names = SharedZoneConfig.Mode.allCases.map(\.rawValue)
        throw ConfigValueError(
            "unknown value '\(text)'\(ConfigSuggestion.hint(for: text, in: names)) (expected one of: \(names.joined(separator: ", ")))")
    }
}

extension RedisAddress {
    /// Parses `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]` (IPv6 hosts in brackets).
    /// - Throws: ``ConfigValueError`` saying what to write instead.
    init(parsing text: String) throws(ConfigValueError) {
        let form = "write redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], e.g. redis://127.0.0.1:6379"
        if text.hasPrefix("rediss://") {
            throw ConfigValueError("'rediss://' (TLS) is not supported; run Redis on a private network or loopback and \(form)")
        }
        guard text.hasPrefix("redis://") else { throw ConfigValueError("'\(text)' is not a Redis URL; \(form)") }
        var rest = Substring(text.dropFirst("redis://".count))
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = credentials[..<colon].isEmpty ? nil : String(credentials[..<colon])
                password = String(credentials[credentials.index(after: colon)...])
            } else {
                user = String(credentials)
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let digits = rest[rest.index(after: slash)...]
            if !digits.isEmpty {
                guard let value = Int(digits), (0...15).contains(value) else {
                    throw ConfigValueError("'\(digits)' is not a Redis database number (0-15); \(form)")
                }
                database = value
            }
            rest = rest[..<slash]
        }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw ConfigValueError("'\(text)': an IPv6 host needs its closing ']'; \(form)")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw ConfigValueError("'\(text)': unexpected '\(after)' after the host; \(form)")
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw ConfigValueError("'\(text)' has no host; \(form)") }
        var port = 6379
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw ConfigValueError("'\(portText)' is not a port (1-65535); \(form)")
            }
            port = value
        }
        self.init(host: String(host), port: port, user: user, password: password, database: database)
    }
}
