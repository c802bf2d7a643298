/// The response of `POST /racks/{id}/optimize`: a proposed layout, never saved.
public struct OptimizationResult: Codable, Sendable, Hashable {
    /// The proposed positions (`id` null), lowest `start_u` first; locked ones say `locked: true`.
    public var positions: [RackPosition]
    public var score: ScoreBreakdown
    public var improvements: [String]
    public var metadata: Metadata

    public init(positions: [RackPosition], score: ScoreBreakdown, improvements: [String], metadata: Metadata) {
        self.positions = positions
        self.score = score
        self.improvements = improvements
        self.metadata = metadata
    }

    /// How the result was reached.
    public struct Metadata: Codable, Sendable, Hashable {
        /// The four weighted factors, without the total.
        public struct Factors: Codable, Sendable, Hashable {
            public var cableManagement: Double
            public var weightDistribution: Double
            public var thermalManagement: Double
            public var accessFrequency: Double

            public init(_ score: ScoreBreakdown) {
                cableManagement = score.cableManagement
                weightDistribution = score.weightDistribution
                thermalManagement = score.thermalManagement
                accessFrequency = score.accessFrequency
            }

            enum CodingKeys: String, CodingKey {
                case cableManagement = "cable_management"
                case weightDistribution = "weight_distribution"
                case thermalManagement = "thermal_management"
                case accessFrequency = "access_frequency"
            }
        }

        /// The winning heuristic's name.
        public var algorithm: String
        /// How many heuristics produced a valid layout.
        public var alternativesEvaluated: Int
        public var devicesPlaced: Int
        /// Candidates: the rack's devices with physical data.
        public var totalDevices: Int
        /// The current layout's total score.
        public var currentScore: Double?
        public var optimizedScore: Double
        /// `(optimized - current) ÷ current × 100`, 1 dp; null when the current score is 0.
        public var improvementPercentage: Double?
        public var weights: OptimizationWeights
        public var scoreBreakdown: Factors

        public init(
            algorithm: String, alternativesEvaluated: Int, devicesPlaced: Int, totalDevices: Int, currentScore: Double?,
            optimizedScore: Double, improvementPercentage: Double?, weights: OptimizationWeights,
            scoreBreakdown: Factors
        ) {
            self.algorithm = algorithm
            self.alternativesEvaluated = alternativesEvaluated
            self.devicesPlaced = devicesPlaced
            self.totalDevices = totalDevices
            self.currentScore = currentScore
            self.optimizedScore = optimizedScore
            self.improvementPercentage = improvementPercentage
            self.weights = weights
            self.scoreBreakdown = scoreBreakdown
        }

        /// Writes the optional figures as explicit nulls, as the API documents them.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(algorithm, forKey: .algorithm)
            try container.encode(alternativesEvaluated, forKey: .alternativesEvaluated)
            try container.encode(devicesPlaced, forKey: .devicesPlaced)
            try container.encode(totalDevices, forKey: .totalDevices)
            try container.encode(currentScore, forKey: .currentScore)
            try container.encode(optimizedScore, forKey: .optimizedScore)
            try container.encode(improvementPercentage, forKey: .improvementPercentage)
            try container.encode(weights, forKey: .weights)
            try container.encode(scoreBreakdown, forKey: .scoreBreakdown)
        }

        enum CodingKeys: String, CodingKey {
            case algorithm
            case alternativesEvaluated = "alternatives_evaluated"
            case devicesPlaced = "devices_placed"
            case totalDevices = "total_devices"
            case currentScore = "current_score"
            case optimizedScore = "optimized_score"
            case improvementPercentage = "improvement_percentage"
            case weights
            case scoreBreakdown = "score_breakdown"
        }
    }
}
