/// How much each factor counts in an optimized layout's total score.
///
/// Each weight is 0-1 and together they sum to 1 (within 0.01). Fields left out of a request
/// keep their defaults: cable 0.30, weight 0.25, thermal 0.25, access 0.20.
public struct OptimizationWeights: Codable, Sendable, Hashable {
    /// The defaults: cable 0.30, weight 0.25, thermal 0.25, access 0.20.
    public static let standard = OptimizationWeights()

    public var cable: Double
    public var weight: Double
    public var thermal: Double
    public var access: Double

    public init(cable: Double = 0.30, weight: Double = 0.25, thermal: Double = 0.25, access: Double = 0.20) {
        self.cable = cable
        self.weight = weight
        self.thermal = thermal
        self.access = access
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let standard = OptimizationWeights()
        cable = try container.decodeIfPresent(Double.self, forKey: .cable) ?? standard.cable
        weight = try container.decodeIfPresent(Double.self, forKey: .weight) ?? standard.weight
        thermal = try container.decodeIfPresent(Double.self, forKey: .thermal) ?? standard.thermal
        access = try container.decodeIfPresent(Double.self, forKey: .access) ?? standard.access
    }

    /// The four weights' sum.
    public var sum: Double { cable + weight + thermal + access }

    /// Each weight out of 0-1, under `weights.<name>`; then, only when all four are in range,
    /// a `weights` error if they do not sum to 1 within 0.01.
    ///
    /// The sum is checked once, over all four weights. (The reference service checked running
    /// partial sums field by field, so it refused valid weights such as the defaults part-way
    /// through and accepted some that did not add up.) A hair of float slack keeps 0.99 and
    /// 1.01 inside the band, which plain `abs(sum - 1) <= 0.01` would reject for rounding.
    public func fieldErrors(prefix: String = "weights") -> [FieldError] {
        var check = FieldValidator()
        let named = [("cable", cable), ("weight", weight), ("thermal", thermal), ("access", access)]
        for (name, value) in named {
            check.number("\(prefix).\(name)", value, in: 0...1)
        }
        guard check.errors.isEmpty else { return check.errors }
        if (sum - 1).magnitude > 0.01 + 1e-9 {
            check.fail(
                prefix, "Weights must sum to 1.0 (within 0.01); they sum to \(DecimalFormatting.fixed(sum, places: 2))")
        }
        return check.errors
    }

    enum CodingKeys: String, CodingKey {
        case cable, weight, thermal, access
    }
}
