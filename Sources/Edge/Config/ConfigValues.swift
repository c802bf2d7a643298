/// Parsers for the scalar notations of the configuration file: numbers, switches, durations
/// and sizes, in the forms nginx uses so that values can be copied from the old front.
///
/// Each parser takes the text after environment substitution and throws a message that says
/// what form is expected, because the value may have come from a variable the operator no
/// longer sees in the file.
enum ConfigValues {
    /// The longest duration accepted anywhere. Every duration here is a timeout or an interval;
    /// a day is already far past any useful one, and a bound keeps the arithmetic from overflowing.
    static let maximumDuration: Duration = .seconds(24 * 3600)

    /// A whole number in `range`: digits with an optional sign, `_` allowed between digits (`160_000`).
    static func integer(_ text: String, in range: ClosedRange<Int>) throws(ConfigValueError) -> Int {
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        guard let first = digits.first, first.isASCIIDigit, let last = digits.last, last.isASCIIDigit,
            digits.allSatisfy({ $0.isASCIIDigit || $0 == "_" }), !digits.contains("__")
        else {
            throw ConfigValueError(
                "expected a whole number from \(range.lowerBound) to \(range.upperBound), found '\(text)'")
        }
        guard let magnitude = Int(digits.filter { $0 != "_" }) else {
            throw ConfigValueError("\(text) is too large; use a number from \(range.lowerBound) to \(range.upperBound)")
        }
        let value = negative ? -magnitude : magnitude
        guard range.contains(value) else {
            throw ConfigValueError(
                "\(text) is out of range; use a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A switch: `true`/`false`, or nginx's `on`/`off`, or `yes`/`no`.
    static func bool(_ text: String) throws(ConfigValueError) -> Bool {
        switch text.lowercased() {
        case "true", "on", "yes": return true
        case "false", "off", "no": return false
        default: throw ConfigValueError("expected true or false, found '\(text)'")
        }
    }

    /// A duration: `500ms`, `12s`, `2m`, `1h`, `1d`, combinations largest unit first (`1m30s`),
    /// or a bare number of seconds (`12`), as nginx's time notation.
    ///
    /// Zero and negative durations are refused: every duration here is a timeout or interval,
    /// and zero would mean "fail at once" (or, to some readers, "never"); to make a timeout
    /// effectively unlimited give a large value instead.
    static func duration(_ text: String) throws(ConfigValueError) -> Duration {
        let expected = "expected a duration such as 500ms, 12s, 2m or 1h (a bare number is seconds)"
        guard let first = text.first else { throw ConfigValueError("empty value; \(expected)") }
        if first == "-" {
            throw ConfigValueError("'\(text)' is negative; a duration must be more than 0")
        }
        var milliseconds: Int64 = 0
        if !text.isEmpty, text.allSatisfy(\.isASCIIDigit) {
            guard let seconds = Int64(text), seconds <= 86_400 else { throw tooLong(text) }
            milliseconds = seconds * 1000
        } else {
            // (unit, milliseconds per unit) in the only order they may appear.
            let units: [(String, Int64)] = [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)]
            var rest = Substring(text)
            var nextUnit = 0
            while !rest.isEmpty {
                let digits = rest.prefix(while: \.isASCIIDigit)
                rest = rest.dropFirst(digits.count)
                let unitText = rest.prefix(while: { $0.isLetter })
                rest = rest.dropFirst(unitText.count)
                guard !digits.isEmpty else { throw ConfigValueError("'\(text)': \(expected)") }
                if rest.first == "." {
                    throw ConfigValueError(
                        "'\(text)': fractions are not allowed; use a smaller unit (1500ms, not 1.5s)")
                }
                guard let index = units.firstIndex(where: { $0.0 == unitText }) else {
                    let hint = unitText.isEmpty ? "" : " ('\(unitText)' is not a unit: use ms, s, m, h or d)"
                    throw ConfigValueError("'\(text)': \(expected)\(hint)")
                }
                guard index >= nextUnit else {
                    throw ConfigValueError("'\(text)': write each unit once, largest first, as in 1m30s")
                }
                nextUnit = index + 1
                guard let count = Int64(digits), count <= 86_400_000 else { throw tooLong(text) }
                milliseconds += count * units[index].1
                guard milliseconds <= 86_400_000 else { throw tooLong(text) }
            }
        }
        guard milliseconds > 0 else {
            throw ConfigValueError("'\(text)' is zero; a duration must be more than 0")
        }
        let duration = Duration.milliseconds(milliseconds)
        guard duration <= maximumDuration else { throw tooLong(text) }
        return duration
    }

    private static func tooLong(_ text: String) -> ConfigValueError {
        ConfigValueError("'\(text)' is too long; durations are at most 24h")
    }

    /// A size in bytes, nginx style: a number of bytes, or with `k`, `m` or `g` (1024-based;
    /// `K`, `M`, `G` too), in `range` bytes.
    static func size(_ text: String, in range: ClosedRange<Int>) throws(ConfigValueError) -> Int {
        let expected = "expected a size such as 10m, 128k, 1g or a number of bytes"
        let digits = text.prefix(while: \.isASCIIDigit)
        let suffix = text.dropFirst(digits.count)
        let multiplier: Int
        switch suffix {
        case "": multiplier = 1
        case "k", "K": multiplier = 1 << 10
        case "m", "M": multiplier = 1 << 20
        case "g", "G": multiplier = 1 << 30
        case "kb", "KB", "Kb", "mb", "MB", "Mb", "gb", "GB", "Gb":
            throw ConfigValueError(
                "'\(text)': write \(digits)\(suffix.prefix(1).lowercased()) (nginx size notation, no 'b')")
        default:
            if suffix.first == "." {
                throw ConfigValueError("'\(text)': fractions are not allowed; use a smaller unit (1536k, not 1.5m)")
            }
            throw ConfigValueError("'\(text)': \(expected)")
        }
        guard !digits.isEmpty else { throw ConfigValueError("'\(text)': \(expected)") }
        guard let count = Int(digits) else { throw ConfigValueError("'\(text)' is too large") }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: multiplier)
        guard !overflow, range.contains(bytes) else {
            throw ConfigValueError(
                "'\(text)' is out of range; use a size from \(formatSize(range.lowerBound)) to \(formatSize(range.upperBound))"
            )
        }
        return bytes
    }

    /// A duration as the file would write it (`1m30s`, `500ms`), for messages.
    static func format(_ duration: Duration) -> String {
        var milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds == 0 { return "0s" }
        var text = ""
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)]
        where milliseconds >= size {
            text += "\(milliseconds / size)\(unit)"
            milliseconds %= size
        }
        return text
    }

    /// A size as the file would write it (`10m`, `1500`), for messages.
    static func formatSize(_ bytes: Int) -> String {
        for (unit, size) in [("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10)] where bytes >= size && bytes % size == 0 {
            return "\(bytes / size)\(unit)"
        }
        return "\(bytes)"
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
