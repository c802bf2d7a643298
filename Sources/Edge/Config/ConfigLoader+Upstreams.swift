import Yams

extension ConfigLoader {
    static let upstreamKeys = [
        "balance", "keepalive", "connect_timeout", "read_timeout", "send_timeout", "max_retries", "servers",
        "health_check",
    ]
    static let serverKeys = ["address", "weight", "max_fails", "fail_timeout"]
    static let healthCheckKeys = ["path", "interval", "timeout", "rise", "fall"]

    /// What `upstreams:` yielded.
    struct UpstreamsSection {
        var config: [String: UpstreamConfig] = [:]
        /// Every upstream name written, including those with problems; `nil` when the section
        /// could not be read, so routes are not checked against it.
        var names: [String]? = []
    }

    /// `upstreams:`, pools by name.
    static func readUpstreams(_ node: Node, at path: ConfigKeyPath, reader: ConfigReader) -> UpstreamsSection {
        guard let entries = reader.entries(node, at: path) else { return UpstreamsSection(names: nil) }
        var section = UpstreamsSection()
        for entry in entries {
            let upstreamPath = path.appending(entry.key)
            section.names?.append(entry.key)
            do {
                _ = try name(kind: "upstream")(entry.key)
            } catch {
                reader.report(upstreamPath, entry.keyNode, error.message)
                continue
            }
            if let upstream = readUpstream(entry.key, entry.value, at: upstreamPath, reader: reader) {
                section.config[entry.key] = upstream
            }
        }
        return section
    }

    private static func readUpstream(
        _ name: String, _ node: Node, at path: ConfigKeyPath, reader: ConfigReader
    ) -> UpstreamConfig? {
        guard let mapping = reader.mapping(node, at: path, keys: upstreamKeys) else { return nil }
        var servers: [UpstreamServerConfig] = []
        if let node = mapping["servers"] {
            if let items = reader.sequence(node, at: path.appending("servers")) {
                if items.isEmpty {
                    reader.report(
                        path.appending("servers"), node,
                        "upstream '\(name)' has no servers; add at least one, e.g. - 127.0.0.1:8000")
                }
                servers = items.enumerated().compactMap { index, item in
                    readServer(item, at: path.appending("servers").appending(index: index), reader: reader)
                }
            }
        } else {
            reader.reportMissing(
                mapping, "servers", hint: "upstream '\(name)' needs at least one server, e.g. servers: [127.0.0.1:8000]"
            )
        }
        var upstream = UpstreamConfig(name: name, servers: servers)
        let algorithms = BalanceAlgorithm.allCases.map { ($0.rawValue, $0) }
        if let value = reader.choice(mapping, "balance", algorithms) { upstream.balance = value }
        if let value = reader.optional(
            mapping, "keepalive",
            { text throws(ConfigValueError) in
                try ConfigValues.integer(text, in: 0...10_000)
            })
        {
            upstream.keepAlive = value
        }
        if let value = reader.optional(mapping, "connect_timeout", ConfigValues.duration) {
            upstream.connectTimeout = value
        }
        if let value = reader.optional(mapping, "read_timeout", ConfigValues.duration) { upstream.readTimeout = value }
        if let value = reader.optional(mapping, "send_timeout", ConfigValues.duration) { upstream.sendTimeout = value }
        if let value = reader.optional(
            mapping, "max_retries",
            { text throws(ConfigValueError) in
                try ConfigValues.integer(text, in: 0...100)
            })
        {
            upstream.maxRetries = value
        }
        if let node = mapping["health_check"] {
            upstream.healthCheck = readHealthCheck(node, at: path.appending("health_check"), reader: reader)
        }
        return upstream
    }

    /// One server: `{address, weight, max_fails, fail_timeout}`, or just its address.
    private static func readServer(_ node: Node, at path: ConfigKeyPath, reader: ConfigReader) -> UpstreamServerConfig?
    {
        let parseAddress = { (text: String) throws(ConfigValueError) in
            try EndpointAddress(parsing: text, for: .connect)
        }
        if case .scalar = node {
            return reader.value(node, at: path, parseAddress).map(UpstreamServerConfig.init(address:))
        }
        guard let mapping = reader.mapping(node, at: path, keys: serverKeys) else { return nil }
        guard
            let address = reader.required(
                mapping, "address", hint: "write the server's host:port, e.g. 127.0.0.1:8000", parseAddress)
        else { return nil }
        var server = UpstreamServerConfig(address: address)
        if let value = reader.optional(
            mapping, "weight",
            { text throws(ConfigValueError) in
                try ConfigValues.integer(text, in: 1...1000)
            })
        {
            server.weight = value
        }
        if let value = reader.optional(
            mapping, "max_fails",
            { text throws(ConfigValueError) in
                try ConfigValues.integer(text, in: 0...1000)
            })
        {
            server.maxFails = value
        }
        if let value = reader.optional(mapping, "fail_timeout", ConfigValues.duration) { server.failTimeout = value }
        return server
    }

    /// `health_check:`; `{}` enables it with the defaults.
    private static func readHealthCheck(_ node: Node, at path: ConfigKeyPath, reader: ConfigReader)
        -> HealthCheckConfig?
    {
        guard let mapping = reader.mapping(node, at: path, keys: healthCheckKeys) else { return nil }
        var check = HealthCheckConfig()
        if let value = reader.optional(
            mapping, "path",
            { text throws(ConfigValueError) in
                guard text.hasPrefix("/") else {
                    throw ConfigValueError("'\(text)' must start with '/', e.g. /health")
                }
                guard !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else {
                    throw ConfigValueError("'\(text)' contains a space or control character; percent-encode it")
                }
                return text
            })
        {
            check.path = value
        }
        let interval = reader.optional(mapping, "interval", ConfigValues.duration)
        let timeout = reader.optional(mapping, "timeout", ConfigValues.duration)
        if let interval { check.interval = interval }
        if let timeout { check.timeout = timeout }
        let count = { (text: String) throws(ConfigValueError) in try ConfigValues.integer(text, in: 1...100) }
        if let value = reader.optional(mapping, "rise", count) { check.rise = value }
        if let value = reader.optional(mapping, "fall", count) { check.fall = value }
        // Only compare values that parsed (or defaults), so a bad duration is not reported twice.
        let timeoutValid = timeout != nil || mapping["timeout"] == nil
        let intervalValid = interval != nil || mapping["interval"] == nil
        if timeoutValid, intervalValid, check.timeout >= check.interval {
            reader.report(
                path.appending("timeout"), line: mapping.line(of: "timeout"),
                "timeout \(ConfigValues.format(check.timeout)) must be shorter than interval \(ConfigValues.format(check.interval)), or checks would overlap; shorten the timeout or lengthen the interval"
            )
        }
        return check
    }
}
