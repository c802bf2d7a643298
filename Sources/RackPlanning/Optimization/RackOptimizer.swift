/// Proposes a better layout for a rack's devices. Nothing is saved.
///
/// Flow: validate the weights (422) → the rack exists (404) → it holds candidates (400) →
/// score the current layout as the baseline → lay out the candidates with each
/// ``LayoutHeuristic`` → drop layouts that break a hard limit (``LayoutConstraints``; none left
/// is a 400) → keep the best total (the first heuristic on a tie). Greedy heuristics, no search:
/// the result is a good layout, not the best possible one.
public enum RackOptimizer {
    /// Optimizes one rack.
    ///
    /// - Parameters:
    ///   - request: the locked device ids and the weights.
    ///   - rackID: the rack asked for, for the 404.
    ///   - rack: the rack, or `nil` when there is none.
    ///   - positions: the rack's positions, with devices embedded.
    ///   - connections: connections touching the rack's devices (others are ignored).
    /// - Returns: the proposed layout, its score, the improvement lines and metadata.
    /// - Throws: ``RackPlanningError`` — `validationFailed` (422), `rackNotFound` (404),
    ///   `nothingToOptimize` or `noValidLayout` (400).
    public static func optimize(
        _ request: OptimizationRequest,
        rackID: Int,
        rack: Rack?,
        positions: [RackPosition],
        connections: [Connection]
    ) throws(RackPlanningError) -> OptimizationResult {
        try request.validate()
        guard let rack else { throw .rackNotFound(rackID) }
        let candidates = PlacementCandidate.candidates(
            from: positions, rackID: rack.id, lockedDeviceIDs: request.lockedPositions)
        guard !candidates.isEmpty else { throw .nothingToOptimize(rackID: rack.id) }

        let scorer = LayoutScorer(
            rack: rack, candidates: candidates, connections: connections, weights: request.weights)
        let current = scorer.score(candidates.map { PlannedPosition(candidate: $0, startU: $0.currentStartU) })

        var best: (heuristic: LayoutHeuristic, layout: [PlannedPosition], score: ScoreBreakdown)?
        var validCount = 0
        var violations: [String] = []
        for heuristic in LayoutHeuristic.allCases {
            let layout = heuristic.layout(candidates, totalHeightU: rack.totalHeightU)
            let broken = LayoutConstraints.violations(
                of: layout, in: rack, candidates: candidates, lockedDeviceIDs: request.lockedPositions)
            guard broken.isEmpty else {
                violations += broken.map { "\(heuristic.rawValue): \($0)" }
                continue
            }
            validCount += 1
            let score = scorer.score(layout)
            if score.total > best?.score.total ?? -.infinity { best = (heuristic, layout, score) }
        }
        guard let best else { throw .noValidLayout(violations) }

        let proposed = best.layout.enumerated()
            .sorted { ($0.element.startU, $0.offset) < ($1.element.startU, $1.offset) }
            .map {
                RackPosition(
                    id: nil, rackID: rack.id, device: $0.element.candidate.device, startU: $0.element.startU,
                    locked: $0.element.candidate.locked)
            }
        let improvement: Double? =
            current.total > 0 ? ((best.score.total - current.total) / current.total * 100).rounded(toPlaces: 1) : nil
        let algorithm = best.heuristic.rawValue
        return OptimizationResult(
            positions: proposed,
            score: best.score,
            improvements: OptimizationImprovements.lines(current: current, optimized: best.score, algorithm: algorithm),
            metadata: .init(
                algorithm: algorithm,
                alternativesEvaluated: validCount,
                devicesPlaced: best.layout.count,
                totalDevices: candidates.count,
                currentScore: current.total,
                optimizedScore: best.score.total,
                improvementPercentage: improvement,
                weights: request.weights,
                scoreBreakdown: .init(best.score)))
    }
}
