/// The body of `POST /racks/{id}/optimize`: devices to keep where they are, and the weights.
public struct OptimizationRequest: Codable, Sendable, Hashable, FieldValidatable {
    /// Device ids (not position ids) that must keep their current `start_u`.
    public var lockedPositions: [Int]
    public var weights: OptimizationWeights

    public init(lockedPositions: [Int] = [], weights: OptimizationWeights = .standard) {
        self.lockedPositions = lockedPositions
        self.weights = weights
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        lockedPositions = try container.decodeIfPresent([Int].self, forKey: .lockedPositions) ?? []
        weights = try container.decodeIfPresent(OptimizationWeights.self, forKey: .weights) ?? .standard
    }

    public func fieldErrors() -> [FieldError] { weights.fieldErrors() }

    enum CodingKeys: String, CodingKey {
        case lockedPositions = "locked_positions"
        case weights
    }
}
