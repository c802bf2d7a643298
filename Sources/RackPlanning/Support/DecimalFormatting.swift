/// Fixed-point text for numbers in messages, without Foundation.
///
/// Recommendation and improvement texts quote figures as Python's `{:.1f}`, `{:.2f}` and
/// `{:.2%}` did (`"85.0%"`, `"0.73/1.00"`, `"81.25%"`); the standard library has no fixed
/// precision formatting, so this is the one place that spells numbers out.
enum DecimalFormatting {
    /// `value` with exactly `places` digits after the point (`fixed(2.5, places: 2)` is `"2.50"`).
    static func fixed(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (value.magnitude * scale).rounded(.toNearestOrEven)
        guard scaled < 9.0e15 else { return String(value) }
        let units = Int(scaled)
        let divisor = Int(scale)
        let whole = units / divisor
        let fraction = units % divisor
        let sign = value < 0 && units != 0 ? "-" : ""
        guard places > 0 else { return "\(sign)\(whole)" }
        var digits = String(fraction)
        while digits.count < places { digits = "0" + digits }
        return "\(sign)\(whole).\(digits)"
    }

    /// `ratio` as a percentage with `places` decimals (`percent(0.8125, places: 2)` is `"81.25%"`).
    static func percent(_ ratio: Double, places: Int) -> String {
        fixed(ratio * 100, places: places) + "%"
    }
}
