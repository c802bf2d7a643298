import Yams

extension ConfigLoader {
    /// `logging:`, log destinations and level.
    static func readLogging(_ node: Node, at path: ConfigKeyPath, reader: ConfigReader) -> LoggingConfig {
        var logging = LoggingConfig()
        guard let mapping = reader.mapping(node, at: path, keys: ["access_log", "error_log", "level"]) else {
            return logging
        }
        if let value = reader.optional(mapping, "access_log", destination) { logging.accessLog = value }
        if let value = reader.optional(mapping, "error_log", destination) { logging.errorLog = value }
        if let value = reader.choice(mapping, "level", LoggingConfig.Level.allCases.map { ($0.rawValue, $0) }) {
            logging.level = value
        }
        return logging
    }

    /// `stdout`, `stderr`, `off`, or a file path.
    ///
    /// A path must contain a `/` (`./access.log` for one in the working directory), so that a
    /// misspelt `sdtout` is reported instead of quietly becoming a file of that name.
    static func destination(_ text: String) throws(ConfigValueError) -> LoggingConfig.Destination {
        switch text {
        case "stdout": return .stdout
        case "stderr": return .stderr
        case "off": return .off
        default:
            guard text.contains("/") else {
                let keywords = ["stdout", "stderr", "off"]
                let hint = ConfigSuggestion.closest(to: text, in: keywords).map { "did you mean '\($0)'? " } ?? ""
                throw ConfigValueError(
                    "'\(text)' is not stdout, stderr or off; \(hint)a log file path must contain a '/' (e.g. ./\(text) or /var/log/homerack/\(text))"
                )
            }
            guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw ConfigValueError("the log file path contains a control character")
            }
            return .file(text)
        }
    }
}
