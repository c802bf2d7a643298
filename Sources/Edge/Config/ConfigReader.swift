import Yams

/// Walks the composed YAML tree and collects every problem with its key path and line, instead
/// of stopping at the first.
///
/// Each accessor returns `nil` after reporting why, so section readers carry on with the next
/// key and one run of `--check` lists everything wrong in the file. Scalars are read as text
/// (after ``EnvironmentSubstitution``) and parsed by the key's own rules, never by YAML's type
/// guessing, so `${PORT:-8080}` and `8080` read the same, and `no` is not silently a boolean
/// where a string was meant.
final class ConfigReader {
    let environment: [String: String]
    private(set) var problems: [ConfigError.Problem] = []

    init(environment: [String: String]) {
        self.environment = environment
    }

    // MARK: Reporting

    /// Records a problem at `node`'s line.
    func report(_ path: ConfigKeyPath, _ node: Node?, _ message: String) {
        report(path, line: node?.mark?.line, message)
    }

    func report(_ path: ConfigKeyPath, line: Int?, _ message: String) {
        problems.append(ConfigError.Problem(keyPath: path.description, line: line, message: message))
    }

    // MARK: Structure

    /// `node` as a mapping with only `keys` allowed; unknown keys are reported (with a
    /// suggestion) and left out.
    /// - Returns: `nil` when `node` is not a mapping.
    func mapping(_ node: Node, at path: ConfigKeyPath, keys: [String]) -> ConfigMapping? {
        guard let entries = entries(node, at: path) else { return nil }
        var known: [ConfigMapping.Entry] = []
        for entry in entries {
            if keys.contains(entry.key) {
                known.append(entry)
            } else {
                let suggestion = ConfigSuggestion.closest(to: entry.key, in: keys)
                let hint = suggestion.map { "did you mean '\($0)'?" } ?? "allowed keys: \(keys.joined(separator: ", "))"
                report(path.appending(entry.key), entry.keyNode, "unknown key '\(entry.key)'; \(hint)")
            }
        }
        return ConfigMapping(path: path, line: node.mark?.line, entries: known)
    }

    /// The entries of a mapping whose keys are names the operator chooses (zones, upstreams,
    /// header names), in file order.
    /// - Returns: `nil` when `node` is not a mapping.
    func entries(_ node: Node, at path: ConfigKeyPath) -> [ConfigMapping.Entry]? {
        guard case .mapping(let mapping) = node else {
            report(path, node, "expected a mapping (key: value), found \(Self.kind(of: node))")
            return nil
        }
        var entries: [ConfigMapping.Entry] = []
        var merged: [ConfigMapping.Entry] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let key) = keyNode else {
                report(path, keyNode, "a key must be a plain name, found \(Self.kind(of: keyNode))")
                continue
            }
            if key.string == "<<", key.style == .plain || key.style == .any {
                merged += mergeEntries(value, at: path)
            } else {
                entries.append(ConfigMapping.Entry(key: key.string, keyNode: keyNode, value: value))
            }
        }
        // YAML merge keys (`<<: *defaults`): keys written in the mapping itself win.
        let explicit = Set(entries.map(\.key))
        var seen = Set<String>()
        for entry in merged where !explicit.contains(entry.key) && seen.insert(entry.key).inserted {
            entries.append(entry)
        }
        return entries
    }

    private func mergeEntries(_ node: Node, at path: ConfigKeyPath) -> [ConfigMapping.Entry] {
        switch node {
        case .mapping:
            return entries(node, at: path) ?? []
        case .sequence(let sequence):
            return sequence.flatMap { mergeEntries($0, at: path) }
        case .scalar, .alias:
            report(path.appending("<<"), node, "'<<' merges a mapping: write <<: *anchor")
            return []
        }
    }

    /// `node` as a list; `nil` (reported) otherwise.
    func sequence(_ node: Node, at path: ConfigKeyPath) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            report(path, node, "expected a list, found \(Self.kind(of: node))")
            return nil
        }
        return Array(sequence)
    }

    // MARK: Scalars

    /// `node`'s text with environment variables substituted; `nil` (reported) when it is not a
    /// scalar or a variable is missing.
    func string(_ node: Node, at path: ConfigKeyPath) -> String? {
        guard case .scalar(let scalar) = node else {
            report(path, node, "expected a single value, found \(Self.kind(of: node))")
            return nil
        }
        do {
            return try EnvironmentSubstitution.substitute(scalar.string, environment: environment)
        } catch {
            report(path, node, error.message)
            return nil
        }
    }

    /// `node` read as text, then by `parse`; `nil` (reported) when either fails.
    func value<T>(_ node: Node, at path: ConfigKeyPath, _ parse: (String) throws(ConfigValueError) -> T) -> T? {
        guard let text = string(node, at: path) else { return nil }
        do {
            return try parse(text)
        } catch {
            report(path, node, error.message)
            return nil
        }
    }

    /// The value of `key` in `mapping` read by `parse`; `nil` when the key is absent or null
    /// (silently) or invalid (reported).
    func optional<T>(
        _ mapping: ConfigMapping, _ key: String, _ parse: (String) throws(ConfigValueError) -> T
    ) -> T? {
        guard let node = mapping[key] else { return nil }
        return value(node, at: mapping.path.appending(key), parse)
    }

    /// Like ``optional(_:_:_:)``, but a missing key is reported with `hint` (what to write).
    func required<T>(
        _ mapping: ConfigMapping, _ key: String, hint: String, _ parse: (String) throws(ConfigValueError) -> T
    ) -> T? {
        guard mapping[key] != nil else {
            reportMissing(mapping, key, hint: hint)
            return nil
        }
        return optional(mapping, key, parse)
    }

    /// Reports that `key` is missing from `mapping` (at the mapping's line).
    func reportMissing(_ mapping: ConfigMapping, _ key: String, hint: String) {
        let present = mapping.isPresentButNull(key)
        report(
            mapping.path.appending(key), line: mapping.keyLine(key) ?? mapping.line,
            "\(present ? "is empty" : "is required"); \(hint)")
    }

    /// One of `choices` (`round_robin`, `p2c`), with a suggestion when the text is close to one.
    func choice<T>(_ mapping: ConfigMapping, _ key: String, _ choices: [(String, T)]) -> T? {
        optional(mapping, key) { text throws(ConfigValueError) in
            if let match = choices.first(where: { $0.0 == text }) { return match.1 }
            let names = choices.map(\.0)
            throw ConfigValueError(
                "unknown value '\(text)'\(ConfigSuggestion.hint(for: text, in: names)) (expected one of: \(names.joined(separator: ", ")))"
            )
        }
    }

    /// What a node is, for "expected X, found Y".
    static func kind(of node: Node) -> String {
        switch node {
        case .scalar(let scalar): return scalar.string.isEmpty ? "an empty value" : "the value '\(scalar.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}

/// A mapping's known keys, after ``ConfigReader/mapping(_:at:keys:)`` reported the unknown ones.
struct ConfigMapping {
    struct Entry {
        let key: String
        let keyNode: Node
        let value: Node
    }

    let path: ConfigKeyPath
    /// The line the mapping starts on, for problems about keys that are missing.
    let line: Int?
    let entries: [Entry]

    /// The value of `key`, or `nil` when the key is absent or its value is null (`key:`,
    /// `key: ~`), which the schema treats alike: "use the default".
    subscript(key: String) -> Node? {
        guard let entry = entries.first(where: { $0.key == key }), !Self.isNull(entry.value) else { return nil }
        return entry.value
    }

    /// Whether `key` is written with no value (`key:`).
    func isPresentButNull(_ key: String) -> Bool {
        entries.contains { $0.key == key && Self.isNull($0.value) }
    }

    /// The line of `key` itself, when it is written.
    func keyLine(_ key: String) -> Int? {
        entries.first { $0.key == key }?.keyNode.mark?.line
    }

    /// The line of `key`'s value, or of the mapping when the key is absent.
    func line(of key: String) -> Int? {
        entries.first { $0.key == key }?.value.mark?.line ?? line
    }

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }
}
