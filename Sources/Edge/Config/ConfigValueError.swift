/// Why one scalar could not be read as the value its key needs; the loader adds the key path and
/// line and turns it into a ``ConfigError/Problem``.
struct ConfigValueError: Error, Sendable {
    /// What is wrong and what to write instead.
    let message: String

    init(_ message: String) { self.message = message }
}
