/// Reads settings from the environment and an optional ``ConfigurationFile``, the environment
/// winning, into typed values, collecting a ``ConfigurationProblem`` for every bad value instead
/// of stopping at the first.
///
/// An empty value counts as unset at either level, so `REDIS_URL=` in a file means "no cache",
/// and an empty variable in the environment does not hide the file's value.
struct ConfigurationReader {
    /// A raw value and where it came from (`environment` or `FILE:LINE`).
    struct Setting {
        let value: String
        let origin: String
    }

    private let environment: [String: String]
    private let fileValues: [String: Setting]
    private(set) var problems: [ConfigurationProblem]

    /// - Parameters:
    ///   - environment: the process environment (only known keys are read from it).
    ///   - file: the configuration file, if any; its unknown keys are problems.
    ///   - knownKeys: every key the configuration reads.
    ///   - fileProblems: problems found while reading the file.
    init(
        environment: [String: String], file: ConfigurationFile?, knownKeys: [String],
        fileProblems: [ConfigurationProblem] = []
    ) {
        self.environment = environment
        self.problems = fileProblems
        var values: [String: Setting] = [:]
        let known = Set(knownKeys)
        for entry in file?.entries ?? [] {
            let origin = "\(file!.path):\(entry.line)"
            guard known.contains(entry.key) else {
                let hint = KeySuggestion.closest(to: entry.key, in: knownKeys).map { "; did you mean \($0)?" } ?? ""
                problems.append(ConfigurationProblem(origin: origin, key: entry.key, message: "unknown key\(hint)"))
                continue
            }
            values[entry.key] = Setting(value: entry.value, origin: origin)
        }
        self.fileValues = values
    }

    /// The value for `key`, from the environment if set there, else from the file.
    func setting(_ key: String) -> Setting? {
        if let value = environment[key], !value.isEmpty { return Setting(value: value, origin: "environment") }
        if let setting = fileValues[key], !setting.value.isEmpty { return setting }
        return nil
    }

    /// Records a problem with `key`'s value.
    mutating func problem(_ key: String, at origin: String, _ message: String) {
        problems.append(ConfigurationProblem(origin: origin, key: key, message: message))
    }

    /// An integer within `range`, or `defaultValue` when unset. `_` may separate digits (`10_000`).
    mutating func integer(_ key: String, default defaultValue: Int, in range: ClosedRange<Int>) -> Int {
        guard let setting = setting(key) else { return defaultValue }
        let digits = setting.value.replacingOccurrences(of: "_", with: "")
        guard let value = Int(digits), range.contains(value) else {
            problem(key, at: setting.origin, "expected \(Self.describe(range)), got '\(setting.value)'")
            return defaultValue
        }
        return value
    }

    /// A duration within `range`, or `defaultValue` when unset: `500ms`, `30s`, `2m`, `1h`, or a
    /// bare number of seconds.
    mutating func duration(_ key: String, default defaultValue: Duration, in range: ClosedRange<Duration>) -> Duration {
        guard let setting = setting(key) else { return defaultValue }
        guard let value = Self.parseDuration(setting.value), range.contains(value) else {
            problem(
                key, at: setting.origin,
                "expected a duration from \(DurationText.format(range.lowerBound)) to "
                    + "\(DurationText.format(range.upperBound)) written like 500ms, 30s, 2m or 1h "
                    + "(a bare number is seconds), got '\(setting.value)'")
            return defaultValue
        }
        return value
    }

    /// One of `choices` (compared without case), or `defaultValue` when unset.
    mutating func choice<T>(_ key: String, default defaultValue: T, _ choices: [(name: String, value: T)]) -> T {
        guard let setting = setting(key) else { return defaultValue }
        guard let match = choices.first(where: { $0.name == setting.value.lowercased() }) else {
            let names = choices.map(\.name).joined(separator: ", ")
            problem(key, at: setting.origin, "expected one of \(names), got '\(setting.value)'")
            return defaultValue
        }
        return match.value
    }

    static func parseDuration(_ text: String) -> Duration? {
        let units: [(suffix: String, duration: (Int64) -> Duration)] = [
            ("ms", { .milliseconds($0) }), ("s", { .seconds($0) }), ("m", { .seconds($0 * 60) }),
            ("h", { .seconds($0 * 3600) }),
        ]
        for unit in units where text.hasSuffix(unit.suffix) {
            let number = text.dropLast(unit.suffix.count)
            guard !number.isEmpty, number.allSatisfy(\.isASCIIDigit), let value = Int64(number), value <= 1_000_000
            else { continue }
            return unit.duration(value)
        }
        guard !text.isEmpty, text.allSatisfy(\.isASCIIDigit), let seconds = Int64(text), seconds <= 1_000_000 else {
            return nil
        }
        return .seconds(seconds)
    }

    private static func describe(_ range: ClosedRange<Int>) -> String {
        if range.upperBound == .max { return "an integer of at least \(range.lowerBound)" }
        return "an integer from \(range.lowerBound) to \(range.upperBound)"
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isWholeNumber }
}

/// Durations as the configuration writes them: `30s`, `500ms`, `2m`, `1h`.
enum DurationText {
    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        if milliseconds % 3_600_000 == 0, milliseconds > 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds % 60_000 == 0, milliseconds > 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }
}
