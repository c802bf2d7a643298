/// A rack's (or a device's) mounting width, as the API spells it: `11"`, `18"`, `19"` or `23"`.
public enum RackWidth: String, Codable, Sendable, Hashable, CaseIterable {
    case elevenInch = "11\""
    case eighteenInch = "18\""
    case nineteenInch = "19\""
    case twentyThreeInch = "23\""

    /// The nominal width in inches.
    public var inches: Int {
        switch self {
        case .elevenInch: 11
        case .eighteenInch: 18
        case .nineteenInch: 19
        case .twentyThreeInch: 23
        }
    }

    /// Reads a width from a catalog model, whose width is free text.
    ///
    /// Catalog entries are scraped or typed by hand, so `19"`, `19`, `19in` and `19 inch` all
    /// mean 19". Anything else is `nil`: an unknown width passes the width check rather than
    /// blocking a placement on a typo.
    public init?(lenient text: String) {
        var trimmed = Substring(text).drop { $0 == " " }
        while let last = trimmed.last, last == " " { trimmed = trimmed.dropLast() }
        let lowered = trimmed.lowercased()
        let digits = lowered.prefix { $0.isNumber }
        let rest = lowered.dropFirst(digits.count).drop { $0 == " " }
        guard ["", "\"", "in", "inch", "inches", "in."].contains(String(rest)), let value = Int(digits) else {
            return nil
        }
        guard let width = Self.allCases.first(where: { $0.inches == value }) else { return nil }
        self = width
    }
}
