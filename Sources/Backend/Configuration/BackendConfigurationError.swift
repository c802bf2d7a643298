/// Why a configuration could not be loaded: every problem found, not just the first, so one
/// run of the service (or `homerack-backend migrate`) shows everything to fix.
///
/// Each problem names where the value came from (`environment`, or `FILE:LINE`), the key, what
/// is wrong and what is accepted. Values of secret keys (URLs with passwords, tokens) are never
/// repeated.
public struct BackendConfigurationError: Error, Sendable, CustomStringConvertible {
    public let problems: [ConfigurationProblem]

    init(problems: [ConfigurationProblem]) {
        self.problems = problems
    }

    /// One problem per line.
    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}

/// One thing wrong with a configuration.
public struct ConfigurationProblem: Sendable, Hashable, CustomStringConvertible {
    /// `environment`, `FILE:LINE`, or `FILE` for the file as a whole.
    public let origin: String
    /// The key at fault, when there is one.
    public let key: String?
    public let message: String

    public init(origin: String, key: String?, message: String) {
        self.origin = origin
        self.key = key
        self.message = message
    }

    /// `FILE:LINE: KEY: message`, the edge's format.
    public var description: String {
        if let key { return "\(origin): \(key): \(message)" }
        return "\(origin): \(message)"
    }
}
