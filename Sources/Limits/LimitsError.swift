/// What is wrong with a limit's settings; ``description`` says what to change.
///
/// A struct with a private code rather than a public enum, so that new kinds of error can be
/// added without breaking callers that switch over them. Two errors are equal when they are of
/// the same kind, whatever their details.
public struct LimitsError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case invalidRate
        case outOfRange
        case duplicateZone
    }

    private let code: Code
    /// The full message, naming the value at fault and the allowed form or range.
    public let description: String

    private init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    /// A rate that is not `Nr/s` or `Nr/m` with N in range.
    public static func invalidRate(_ text: String, reason: String) -> LimitsError {
        LimitsError(.invalidRate, "invalid rate '\(text)': \(reason)")
    }

    /// A number setting (burst, delay, capacity, connection limit) out of its range.
    public static func outOfRange(setting: String, value: Int, allowed: ClosedRange<Int>) -> LimitsError {
        LimitsError(.outOfRange, "\(setting) is \(value); it must be between \(allowed.lowerBound) and \(allowed.upperBound)")
    }

    /// The same zone named twice in one policy: its state would be charged twice per request.
    public static func duplicateZone(_ name: String) -> LimitsError {
        LimitsError(.duplicateZone, "zone '\(name)' is listed twice for the same requests; list each zone once")
    }

    /// Any ``invalidRate(_:reason:)``, for matching.
    public static let invalidRate = LimitsError(.invalidRate, "invalid rate")
    /// Any ``outOfRange(setting:value:allowed:)``, for matching.
    public static let outOfRange = LimitsError(.outOfRange, "setting out of range")
    /// Any ``duplicateZone(_:)``, for matching.
    public static let duplicateZone = LimitsError(.duplicateZone, "duplicate zone")

    public static func == (lhs: LimitsError, rhs: LimitsError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}

/// Checks that a setting is within `allowed`.
/// - Throws: ``LimitsError/outOfRange(setting:value:allowed:)`` naming the setting.
func requireRange(_ setting: String, _ value: Int, _ allowed: ClosedRange<Int>) throws(LimitsError) {
    guard allowed.contains(value) else { throw .outOfRange(setting: setting, value: value, allowed: allowed) }
}
