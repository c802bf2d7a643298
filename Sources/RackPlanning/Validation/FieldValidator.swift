/// Collects every field's problems in one pass, so a request learns all its mistakes at once.
///
/// This is the one validation mechanism: each entity's `fieldErrors()` feeds its fields
/// through these checks, so a range is worded and typed the same way everywhere. Messages
/// and types follow the ones FastAPI clients already parse (`"Input should be greater than
/// or equal to 1"`, type `greater_than_equal`). `nil` values are not checked: optional fields
/// are optional, and required ones are enforced by decoding.
public struct FieldValidator: Sendable {
    /// The problems found so far, in the order the checks ran.
    public private(set) var errors: [FieldError] = []

    public init() {}

    /// Records a problem that no range check expresses (a cross-field rule).
    public mutating func fail(_ field: String, _ message: String, type: String = "value_error") {
        errors.append(FieldError(field: field, message: message, type: type))
    }

    /// Checks `lower ≤ value ≤ upper`; reports the first bound broken.
    public mutating func number(_ field: String, _ value: Double?, in range: ClosedRange<Double>) {
        guard let value else { return }
        guard finite(field, value) else { return }
        if value < range.lowerBound {
            fail(
                field, "Input should be greater than or equal to \(Self.text(range.lowerBound))",
                type: "greater_than_equal")
        } else if value > range.upperBound {
            fail(field, "Input should be less than or equal to \(Self.text(range.upperBound))", type: "less_than_equal")
        }
    }

    /// Checks `value ≥ minimum` for fields with no upper bound.
    public mutating func number(_ field: String, _ value: Double?, atLeast minimum: Double) {
        guard let value else { return }
        guard finite(field, value) else { return }
        if value < minimum {
            fail(field, "Input should be greater than or equal to \(Self.text(minimum))", type: "greater_than_equal")
        }
    }

    /// Checks an integer field's range.
    public mutating func integer(_ field: String, _ value: Int?, in range: ClosedRange<Int>) {
        guard let value else { return }
        number(field, Double(value), in: Double(range.lowerBound)...Double(range.upperBound))
    }

    /// Checks every count of a `{name: count}` map (a device's ports) against `range`.
    public mutating func counts(_ field: String, _ value: [String: Int]?, in range: ClosedRange<Int>) {
        guard let value else { return }
        for (name, count) in value.sorted(by: { $0.key < $1.key }) {
            integer("\(field).\(name)", count, in: range)
        }
    }

    /// Checks a string's length in characters.
    public mutating func length(_ field: String, _ value: String?, in range: ClosedRange<Int>) {
        guard let value else { return }
        let count = value.count
        if count < range.lowerBound {
            let unit = range.lowerBound == 1 ? "character" : "characters"
            fail(field, "String should have at least \(range.lowerBound) \(unit)", type: "string_too_short")
        } else if count > range.upperBound {
            let unit = range.upperBound == 1 ? "character" : "characters"
            fail(field, "String should have at most \(range.upperBound) \(unit)", type: "string_too_long")
        }
    }

    /// NaN and infinities compare false against every bound, so they are refused first.
    private mutating func finite(_ field: String, _ value: Double) -> Bool {
        if value.isFinite { return true }
        fail(field, "Input should be a finite number", type: "finite_number")
        return false
    }

    /// A bound as FastAPI prints it: `1`, not `1.0`, for whole numbers.
    static func text(_ bound: Double) -> String {
        if bound == bound.rounded(), bound.magnitude < 1e15 { return String(Int(bound)) }
        return String(bound)
    }
}
