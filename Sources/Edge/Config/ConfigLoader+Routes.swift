import Limits
import Yams

extension ConfigLoader {
    static let routeActions = ["proxy", "static", "redirect", "respond"]
    static let routeKeys =
        ["prefix"] + routeActions + [
            "rate_limit", "connect_timeout", "read_timeout", "send_timeout", "cache_control", "headers", "access_log",
            "compress",
        ]
    static let redirectStatuses = [301, 302, 303, 307, 308]

    /// The names routes may refer to; `nil` when that section could not be read (no check).
    struct RouteTargets {
        var upstreams: [String]?
        var zones: [String]?
    }

    /// `routes:`, in file order.
    static func readRoutes(
        _ node: Node, at path: ConfigKeyPath, reader: ConfigReader, targets: RouteTargets
    ) -> [RouteConfig] {
        guard let items = reader.sequence(node, at: path) else { return [] }
        var routes: [RouteConfig] = []
        var prefixes: [String: (index: Int, line: Int?)] = [:]
        for (index, item) in items.enumerated() {
            let routePath = path.appending(index: index)
            guard let mapping = reader.mapping(item, at: routePath, keys: routeKeys) else { continue }
            let prefix = reader.required(
                mapping, "prefix", hint: "write the path prefix the route serves, e.g. prefix: /api/", routePrefix)
            if let prefix {
                if let first = prefixes[prefix] {
                    reader.report(
                        routePath.appending("prefix"), line: mapping.line(of: "prefix"),
                        "prefix '\(prefix)' is already used by routes[\(first.index)]\(first.line.map { " (line \($0))" } ?? ""); merge the two routes or change one prefix"
                    )
                } else {
                    prefixes[prefix] = (index, mapping.line(of: "prefix"))
                }
            }
            let action = readAction(mapping, at: routePath, reader: reader, targets: targets)
            // The options are read (and checked) even when the prefix or action has problems;
            // such a route only carries placeholders and is not kept.
            var route = RouteConfig(
                prefix: prefix ?? "/", action: action ?? .respond(status: 404, body: "", contentType: ""))
            readRouteOptions(
                mapping, into: &route, isProxy: action.map(isProxy), at: routePath, reader: reader, targets: targets)
            if prefix != nil, action != nil { routes.append(route) }
        }
        return routes
    }

    private static func isProxy(_ action: RouteAction) -> Bool {
        if case .proxy = action { return true }
        return false
    }

    /// A path prefix: starts with `/`, no spaces, query or fragment.
    private static func routePrefix(_ text: String) throws(ConfigValueError) -> String {
        guard text.hasPrefix("/") else {
            throw ConfigValueError("'\(text)' must start with '/', e.g. /\(text)")
        }
        guard !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else {
            throw ConfigValueError(
                "'\(text)' contains a space or control character; percent-encode it as the request would")
        }
        guard !text.contains("?"), !text.contains("#") else {
            throw ConfigValueError("'\(text)' has a query or fragment; routes match the path only")
        }
        return text
    }

    /// Exactly one of `proxy`, `static`, `redirect` and `respond`.
    private static func readAction(
        _ mapping: ConfigMapping, at path: ConfigKeyPath, reader: ConfigReader, targets: RouteTargets
    ) -> RouteAction? {
        let written = mapping.entries.filter { routeActions.contains($0.key) }
        guard let chosen = written.first else {
            reader.report(
                path, line: mapping.line,
                "the route has no action; add one of proxy: UPSTREAM, static: {root: DIR}, redirect: {location: URL} or respond: {status: N}"
            )
            return nil
        }
        for extra in written.dropFirst() {
            reader.report(
                path.appending(extra.key), extra.keyNode,
                "the route already has '\(chosen.key)'; a route has exactly one action, so remove '\(extra.key)' or move it to a route of its own"
            )
        }
        let actionPath = path.appending(chosen.key)
        guard !ConfigMapping.isNull(chosen.value) else {
            reader.report(actionPath, chosen.value, "is empty; see docs/CONFIG.md for what '\(chosen.key)' takes")
            return nil
        }
        switch chosen.key {
        case "proxy":
            return reader.value(chosen.value, at: actionPath) { text throws(ConfigValueError) in
                try reference(text, kind: "upstream", defined: targets.upstreams, section: "upstreams")
            }.map { .proxy(upstream: $0) }
        case "static":
            return readStatic(chosen.value, at: actionPath, reader: reader).map { .staticFiles($0) }
        case "redirect":
            return readRedirect(chosen.value, at: actionPath, reader: reader)
        default:
            return readRespond(chosen.value, at: actionPath, reader: reader)
        }
    }

    /// A name that must be defined in `section` (`upstreams`, `limits.zones`).
    private static func reference(
        _ text: String, kind: String, defined: [String]?, section: String
    ) throws(ConfigValueError) -> String {
        guard let defined, !defined.contains(text) else { return text }
        guard !defined.isEmpty else {
            throw ConfigValueError("unknown \(kind) '\(text)': no \(kind)s are defined; define it under \(section):")
        }
        throw ConfigValueError(
            "unknown \(kind) '\(text)' (defined \(kind)s: \(defined.sorted().joined(separator: ", ")))\(ConfigSuggestion.hint(for: text, in: defined))"
        )
    }

    private static func readStatic(_ node: Node, at path: ConfigKeyPath, reader: ConfigReader) -> StaticConfig? {
        guard let mapping = reader.mapping(node, at: path, keys: ["root", "index", "spa_fallback"]) else { return nil }
        let root = reader.required(mapping, "root", hint: "write the directory to serve, e.g. root: /srv/www") {
            text throws(ConfigValueError) in
            guard !text.isEmpty else { throw ConfigValueError("is empty; write the directory to serve") }
            guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw ConfigValueError("the directory contains a control character")
            }
            return text
        }
        guard let root else { return nil }
        var config = StaticConfig(root: root)
        if let value = reader.optional(
            mapping, "index",
            { text throws(ConfigValueError) in
                guard !text.isEmpty, !text.contains("/"), text != ".", text != ".." else {
                    throw ConfigValueError(
                        "'\(text)' is not a file name; write the index file inside each directory, e.g. index.html")
                }
                return text
            })
        {
            config.index = value
        }
        if let value = reader.optional(mapping, "spa_fallback", ConfigValues.bool) { config.spaFallback = value }
        return config
    }

    private static func readRedirect(_ node: Node, at path: ConfigKeyPath, reader: ConfigReader) -> RouteAction? {
        guard let mapping = reader.mapping(node, at: path, keys: ["location", "status", "append_path"]) else {
            return nil
        }
        let location = reader.required(
            mapping, "location", hint: "write where to send clients, e.g. https://example.org/new/"
        ) {
            text throws(ConfigValueError) in
            let value = try headerValue(text)
            guard value.hasPrefix("/") || value.hasPrefix("https://") || value.hasPrefix("http://") else {
                throw ConfigValueError(
                    "'\(text)' must be an absolute URL (https://host/path) or a path starting with '/'")
            }
            return value
        }
        let status = reader.optional(mapping, "status") { text throws(ConfigValueError) in
            let status = try ConfigValues.integer(text, in: 100...599)
            guard redirectStatuses.contains(status) else {
                throw ConfigValueError(
                    "\(status) is not a redirect status; use 301 or 308 (permanent) or 302, 303 or 307 (temporary); 307 and 308 keep the method and body"
                )
            }
            return status
        }
        let appendPath = reader.optional(mapping, "append_path", ConfigValues.bool) ?? false
        if appendPath, let location, location.contains("?") {
            reader.report(
                path.appending("append_path"), line: mapping.line(of: "append_path"),
                "the path would be appended after the location's query ('\(location)'); remove the query or set append_path: false"
            )
        }
        guard let location else { return nil }
        return .redirect(location: location, status: status ?? 301, appendPath: appendPath)
    }

    private static func readRespond(_ node: Node, at path: ConfigKeyPath, reader: ConfigReader) -> RouteAction? {
        guard let mapping = reader.mapping(node, at: path, keys: ["status", "body", "content_type"]) else { return nil }
        let status = reader.optional(mapping, "status") { text throws(ConfigValueError) in
            try ConfigValues.integer(text, in: 100...599)
        }
        let body = reader.optional(mapping, "body") { $0 } ?? ""
        let contentType = reader.optional(mapping, "content_type", headerValue) ?? "text/plain; charset=utf-8"
        if let status, !body.isEmpty, status < 200 || status == 204 || status == 304 {
            reader.report(
                path.appending("body"), line: mapping.line(of: "body"),
                "a \(status) response cannot carry a body; remove body or use another status")
        }
        guard mapping["status"] == nil || status != nil else { return nil }
        return .respond(status: status ?? 200, body: body, contentType: contentType)
    }

    /// The options besides the action: rate limits, timeouts and response extras.
    private static func readRouteOptions(
        _ mapping: ConfigMapping, into route: inout RouteConfig, isProxy: Bool?, at path: ConfigKeyPath,
        reader: ConfigReader, targets: RouteTargets
    ) {
        if let node = mapping["rate_limit"] {
            route.rateLimits = readRateLimits(
                node, at: path.appending("rate_limit"), reader: reader, zones: targets.zones)
        }
        for key in ["connect_timeout", "read_timeout", "send_timeout"] where mapping[key] != nil && isProxy == false {
            reader.report(
                path.appending(key), line: mapping.line(of: key),
                "\(key) only applies to proxy routes; remove it (this route does not talk to an upstream)")
        }
        route.connectTimeout = reader.optional(mapping, "connect_timeout", ConfigValues.duration)
        route.readTimeout = reader.optional(mapping, "read_timeout", ConfigValues.duration)
        route.sendTimeout = reader.optional(mapping, "send_timeout", ConfigValues.duration)
        route.cacheControl = reader.optional(mapping, "cache_control", headerValue)
        if let node = mapping["headers"] {
            route.addHeaders = readHeaderFields(node, at: path.appending("headers"), reader: reader)
            if route.cacheControl != nil,
                let field = route.addHeaders.first(where: { $0.name.lowercased() == "cache-control" })
            {
                reader.report(
                    path.appending("headers").appending(field.name), line: mapping.line(of: "headers"),
                    "Cache-Control is already set by cache_control; keep one of the two")
            }
        }
        if let value = reader.optional(mapping, "access_log", ConfigValues.bool) { route.accessLog = value }
        if let value = reader.optional(mapping, "compress", ConfigValues.bool) { route.compress = value }
    }

    /// `rate_limit:`, one `{zone, burst, nodelay | delay}` or a list of them.
    private static func readRateLimits(
        _ node: Node, at path: ConfigKeyPath, reader: ConfigReader, zones: [String]?
    ) -> [RouteRateLimit] {
        let items: [(Node, ConfigKeyPath)]
        if case .sequence(let sequence) = node {
            items = sequence.enumerated().map { ($0.element, path.appending(index: $0.offset)) }
        } else {
            items = [(node, path)]
        }
        var limits: [RouteRateLimit] = []
        var seen: Set<String> = []
        for (item, itemPath) in items {
            guard let mapping = reader.mapping(item, at: itemPath, keys: ["zone", "burst", "nodelay", "delay"]) else {
                continue
            }
            let zone = reader.required(mapping, "zone", hint: "name a zone from limits.zones, e.g. zone: api") {
                text throws(ConfigValueError) in
                try reference(text, kind: "zone", defined: zones, section: "limits.zones")
            }
            let burst = reader.optional(mapping, "burst") { text throws(ConfigValueError) in
                try ConfigValues.integer(text, in: 0...1_000_000)
            }
            let nodelay = reader.optional(mapping, "nodelay", ConfigValues.bool)
            let delay = reader.optional(mapping, "delay") { text throws(ConfigValueError) in
                try ConfigValues.integer(text, in: 0...1_000_000)
            }
            if mapping["nodelay"] != nil, mapping["delay"] != nil {
                reader.report(
                    itemPath.appending("delay"), line: mapping.line(of: "delay"),
                    "give either nodelay or delay, not both: nodelay: true serves the whole burst at once, delay: N serves N at once and spaces the rest"
                )
            }
            if let delay, let burst = burst ?? (mapping["burst"] == nil ? 0 : nil), delay > burst {
                reader.report(
                    itemPath.appending("delay"), line: mapping.line(of: "delay"),
                    "delay \(delay) is more than the burst \(burst); it counts requests within the burst, so use at most \(burst) (or raise burst)"
                )
            }
            guard let zone else { continue }
            if !seen.insert(zone).inserted {
                // The rule `RateLimitPolicy` enforces, caught here with the key and line.
                reader.report(
                    itemPath.appending("zone"), line: mapping.line(of: "zone"),
                    LimitsError.duplicateZone(zone).description)
                continue
            }
            let policy: DelayPolicy =
                if let delay { .delay(after: delay) } else if nodelay == false { .delayAll } else { .nodelay }
            limits.append(RouteRateLimit(zone: zone, burst: burst ?? 0, delay: policy))
        }
        return limits
    }
}
