/// Everything wrong with a configuration file, each problem with its key and line.
///
/// The loader reports every problem it finds, not just the first, so that an operator fixes a
/// file in one pass instead of one `--check` run per mistake. ``description`` prints them the
/// way `nginx -t` does, one per line:
///
/// ```
/// edge.yaml:14: routes[2].rate_limit.zone: unknown zone 'apii' (defined zones: api, general); did you mean 'api'?
/// ```
///
/// A struct with a private code rather than a public enum, so that new kinds of failure can be
/// added without breaking callers; two errors are equal when they are of the same kind.
public struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    /// One thing wrong in the file.
    public struct Problem: Hashable, Sendable, CustomStringConvertible {
        /// Where in the schema, as `routes[2].rate_limit.zone`; empty for the file as a whole.
        public let keyPath: String
        /// The line in the file (from 1), when the problem has one.
        public let line: Int?
        /// What is wrong and what to do about it.
        public let message: String

        public init(keyPath: String, line: Int?, message: String) {
            self.keyPath = keyPath
            self.line = line
            self.message = message
        }

        /// `keyPath: message`, without the file and line.
        public var description: String { keyPath.isEmpty ? message : "\(keyPath): \(message)" }
    }

    private enum Code: Hashable, Sendable {
        case unreadableFile
        case malformedYAML
        case invalidConfiguration
    }

    private let code: Code
    /// The file name (or other label) the problems are reported against.
    public let source: String
    /// The problems, ordered by line (problems without a line first).
    public let problems: [Problem]

    private init(_ code: Code, source: String, problems: [Problem]) {
        self.code = code
        self.source = source
        // A stable sort keeps problems on one line in the order they were found.
        self.problems = problems.enumerated()
            .sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }
            .map(\.element)
    }

    /// The file could not be read at all.
    static func unreadableFile(_ source: String, reason: String) -> ConfigError {
        ConfigError(.unreadableFile, source: source, problems: [Problem(keyPath: "", line: nil, message: reason)])
    }

    /// The file is not well-formed YAML, so nothing in it could be checked.
    static func malformedYAML(_ source: String, line: Int?, message: String) -> ConfigError {
        ConfigError(.malformedYAML, source: source, problems: [Problem(keyPath: "", line: line, message: message)])
    }

    /// The file is YAML but does not describe a valid configuration.
    static func invalidConfiguration(_ source: String, problems: [Problem]) -> ConfigError {
        ConfigError(.invalidConfiguration, source: source, problems: problems)
    }

    /// Any ``unreadableFile(_:reason:)``, for matching.
    public static let unreadableFile = ConfigError(.unreadableFile, source: "", problems: [])
    /// Any ``malformedYAML(_:line:message:)``, for matching.
    public static let malformedYAML = ConfigError(.malformedYAML, source: "", problems: [])
    /// Any ``invalidConfiguration(_:problems:)``, for matching.
    public static let invalidConfiguration = ConfigError(.invalidConfiguration, source: "", problems: [])

    /// One line per problem: `source:line: keyPath: message`.
    public var description: String {
        problems.map { problem in
            let location = problem.line.map { "\(source):\($0)" } ?? source
            return "\(location): \(problem)"
        }.joined(separator: "\n")
    }

    public static func == (lhs: ConfigError, rhs: ConfigError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
