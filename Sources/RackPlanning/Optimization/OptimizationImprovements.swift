/// The human-readable lines explaining an optimization result.
///
/// Compared with the current layout: the overall gain, then each factor that gained more than
/// 0.05. When the current layout scores 0 (nothing to compare with): the factors that reach
/// 0.8. Both end with the algorithm and the final score (`x.xx/1.00`).
enum OptimizationImprovements {
    private static var factors: [(KeyPath<ScoreBreakdown, Double>, gain: String, strength: String)] {
        [
            (\.thermalManagement, "Thermal efficiency improved by", "Excellent thermal distribution"),
            (\.powerDistribution, "Power distribution balance improved by", "Well-balanced power distribution"),
            (\.cableManagement, "Cable routing efficiency improved by", "Optimized cable routing"),
            (\.accessFrequency, "Device accessibility improved by", "Optimal device accessibility"),
            (\.weightDistribution, "Weight distribution improved by", "Stable weight distribution"),
        ]
    }

    static func lines(current: ScoreBreakdown?, optimized: ScoreBreakdown, algorithm: String) -> [String] {
        var lines: [String] = []
        func percent(_ ratio: Double) -> String { DecimalFormatting.percent(ratio, places: 2) }

        if let current, current.total > 0 {
            let gain = (optimized.total - current.total) / current.total * 100
            if gain > 1 {
                lines.append("Overall improvement: +\(DecimalFormatting.fixed(gain, places: 1))%")
            } else if gain > 0 {
                lines.append("Minor optimization improvement: +\(DecimalFormatting.fixed(gain, places: 1))%")
            } else {
                lines.append("Current layout is already well-optimized")
            }
            for factor in factors {
                let before = current[keyPath: factor.0]
                let after = optimized[keyPath: factor.0]
                guard after - before > 0.05 else { continue }
                lines.append(
                    "\(factor.gain) \(DecimalFormatting.fixed((after - before) * 100, places: 1))% "
                        + "(\(percent(before)) → \(percent(after)))")
            }
        } else {
            lines.append("Generated optimized layout using \(algorithm) algorithm")
            lines.append("Overall optimization score: \(DecimalFormatting.fixed(optimized.total, places: 2))/1.00")
            for factor in factors where optimized[keyPath: factor.0] >= 0.8 {
                lines.append("\(factor.strength) (\(percent(optimized[keyPath: factor.0])))")
            }
        }
        lines.append("Optimization algorithm: \(algorithm)")
        lines.append("Final optimization score: \(DecimalFormatting.fixed(optimized.total, places: 2))/1.00")
        return lines
    }
}
