import Foundation
import Yams

/// Reads an ``EdgeConfig`` from a YAML file, checking everything before the edge relies on it.
///
/// The schema is documented key by key in `docs/CONFIG.md`. Loading either returns a config in
/// which every value is in range and every name resolves, or throws a ``ConfigError`` listing
/// all the problems found, so `homerack-edge --check` and a `SIGHUP` reload can refuse a bad file
/// whole while the running configuration keeps serving.
public enum ConfigLoader {
    /// The top-level keys, in the order `docs/CONFIG.md` documents them.
    static let topLevelKeys = [
        "listeners", "admin", "event_loops", "timeouts", "limits", "headers", "trusted_proxies", "upstreams",
        "routes", "logging",
    ]

    /// Reads and checks the configuration file at `path`.
    /// - Parameters:
    ///   - path: the YAML file; problems are reported against this name.
    ///   - environment: the variables `${NAME}` references resolve against (usually
    ///     `ProcessInfo.processInfo.environment`).
    /// - Returns: the validated configuration.
    /// - Throws: ``ConfigError`` when the file cannot be read or has problems, listing all of them.
    public static func load(path: String, environment: [String: String]) throws(ConfigError) -> EdgeConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let reason =
                !exists
                ? "no such file; pass the path of the configuration with --config"
                : isDirectory.boolValue
                    ? "is a directory; pass the configuration file itself" : "cannot be read; check its permissions"
            throw .unreadableFile(path, reason: reason)
        }
        guard let yaml = String(data: data, encoding: .utf8) else {
            throw .unreadableFile(path, reason: "is not UTF-8 text; save the file as UTF-8")
        }
        return try parse(yaml: yaml, source: path, environment: environment)
    }

    /// Checks a configuration given as YAML text.
    /// - Parameters:
    ///   - yaml: the file's contents.
    ///   - source: the name problems are reported against (`edge.yaml`).
    ///   - environment: the variables `${NAME}` references resolve against.
    /// - Returns: the validated configuration.
    /// - Throws: ``ConfigError`` listing every problem found.
    public static func parse(yaml: String, source: String, environment: [String: String]) throws(ConfigError)
        -> EdgeConfig
    {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            let (line, message) = describe(error)
            throw .malformedYAML(source, line: line, message: message)
        } catch {
            throw .malformedYAML(source, line: nil, message: "cannot parse the YAML: \(error)")
        }
        guard let root, !ConfigMapping.isNull(root) else {
            throw .invalidConfiguration(
                source,
                problems: [
                    ConfigError.Problem(
                        keyPath: "listeners", line: nil,
                        message: "the file is empty; at least one listener is required (see docs/CONFIG.md)")
                ])
        }
        let reader = ConfigReader(environment: environment)
        let config = read(root, reader: reader)
        guard let config, reader.problems.isEmpty else {
            throw .invalidConfiguration(source, problems: reader.problems)
        }
        return config
    }

    /// Reads every section, so that problems in all of them are reported.
    /// - Returns: `nil` when a required part is missing (which is then among the problems).
    private static func read(_ root: Node, reader: ConfigReader) -> EdgeConfig? {
        guard let top = reader.mapping(root, at: .root, keys: topLevelKeys) else { return nil }

        var listeners: [ListenerConfig] = []
        var addresses: [ListenAddress] = []
        if let node = top["listeners"] {
            (listeners, addresses) = readListeners(node, at: .root.appending("listeners"), reader: reader)
        } else {
            reader.reportMissing(
                top, "listeners", hint: "add at least one, e.g. listeners: [{name: public, address: 0.0.0.0:8080}]")
        }
        let admin = top["admin"].flatMap { readAdmin($0, at: .root.appending("admin"), reader: reader) }
        checkDistinctAddresses(addresses + (admin.map { [$0] } ?? []), reader: reader)

        let eventLoops =
            reader.optional(top, "event_loops") { text throws(ConfigValueError) -> Int? in
                text == "auto" ? nil : try ConfigValues.integer(text, in: 1...256)
            } ?? nil
        let timeouts = top["timeouts"].map { readTimeouts($0, at: .root.appending("timeouts"), reader: reader) }
        let limits = top["limits"].map { readLimits($0, at: .root.appending("limits"), reader: reader) }
        let headers = top["headers"].map { readHeaders($0, at: .root.appending("headers"), reader: reader) }
        let trustedProxies = top["trusted_proxies"].map {
            readTrustedProxies($0, at: .root.appending("trusted_proxies"), reader: reader)
        }
        let upstreams = top["upstreams"].map { readUpstreams($0, at: .root.appending("upstreams"), reader: reader) }
        // Names are known even when their definitions have problems, so a route naming a broken
        // upstream is not reported twice; `nil` (a section too broken to read) skips the check.
        let targets = RouteTargets(
            upstreams: upstreams.map { $0.names } ?? [], zones: limits.map { $0.zoneNames } ?? [])
        let routes = top["routes"].map {
            readRoutes($0, at: .root.appending("routes"), reader: reader, targets: targets)
        }
        let logging = top["logging"].map { readLogging($0, at: .root.appending("logging"), reader: reader) }

        guard !listeners.isEmpty else { return nil }
        return EdgeConfig(
            listeners: listeners, admin: admin.map { AdminConfig(address: $0.address) }, eventLoops: eventLoops,
            timeouts: timeouts ?? ClientTimeouts(),
            limits: limits?.config ?? LimitsConfig(), headers: headers ?? .homerack,
            trustedProxies: trustedProxies ?? [], upstreams: upstreams?.config ?? [:], routes: routes ?? [],
            logging: logging ?? LoggingConfig())
    }

    /// The line and a readable message of a YAML syntax error.
    private static func describe(_ error: YamlError) -> (line: Int?, message: String) {
        func text(_ context: YamlError.Context?, _ problem: String) -> String {
            let prefix = context.map { "\($0.text) (line \($0.mark.line)): " } ?? ""
            return "YAML syntax error: \(prefix)\(problem)"
        }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return (mark.line, text(context, problem))
        case .duplicatedKeysInMapping(let duplicates, let context):
            let names = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return (context.mark.line, "key \(names) is written twice in the same mapping; keep one")
        case .reader(let problem, _, _, _):
            return (nil, "cannot read the YAML: \(problem)")
        default:
            return (nil, "cannot parse the YAML: \(error)")
        }
    }
}
