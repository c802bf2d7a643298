/// Proposes a better layout for a rack's devices. Nothing is saved.
///
/// Flow: validate the weights (422) → the rack exists (404) → it holds candidates (400) →
/// score the current layout as the baseline → lay out the candidates with each
/// ``LayoutHeuristic`` → drop layouts that break a hard limit (``LayoutConstraints``; none left
/// is a 400) → keep the best total (the first heuristic on a tie). Greedy heuristics, no search:
/// the result is a good layout, not the best possible one.
///
/// It never proposes a layout scoring below the current one: when every heuristic's layout
/// scores below the current layout (which breaks no hard limit), the result is the current
/// layout itself, with its score, an improvement of 0 and "No improvement found"
/// (``keptAlgorithm``), so a client applying the proposal cannot make the rack worse. A current
/// layout that breaks a hard limit (overlapping devices, over the power budget) is not kept.
public enum RackOptimizer {
    /// `metadata.algorithm` when the current layout is kept because no heuristic beat it.
    public static let keptAlgorithm = "Current layout (no improvement found)"
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
        let currentLayout = candidates.map { PlannedPosition(candidate: $0, startU: $0.currentStartU) }
        let current = scorer.score(currentLayout)

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
        // Never worse than what the user has: a current layout that breaks no hard limit and
        // scores above every heuristic's is kept (a tie proposes the heuristic's, no worse).
        let currentIsValid = LayoutConstraints.violations(
            of: currentLayout, in: rack, candidates: candidates, lockedDeviceIDs: request.lockedPositions
        ).isEmpty
        guard !currentIsValid || best.score.total >= current.total else {
            return keepCurrent(
                candidates, rack: rack, current: current, bestHeuristic: best.heuristic, bestScore: best.score,
                validCount: validCount, request: request)
        }

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

    /// The result when no heuristic beat the current layout: the candidates where they are.
    private static func keepCurrent(
        _ candidates: [PlacementCandidate], rack: Rack, current: ScoreBreakdown, bestHeuristic: LayoutHeuristic,
        bestScore: ScoreBreakdown, validCount: Int, request: OptimizationRequest
    ) -> OptimizationResult {
        let positions = candidates.enumerated()
            .sorted { ($0.element.currentStartU, $0.offset) < ($1.element.currentStartU, $1.offset) }
            .map {
                RackPosition(
                    id: nil, rackID: rack.id, device: $0.element.device, startU: $0.element.currentStartU,
                    locked: $0.element.locked)
            }
        let score = { (value: Double) in DecimalFormatting.fixed(value, places: 2) }
        return OptimizationResult(
            positions: positions,
            score: current,
            improvements: [
                "No improvement found: the current layout is kept",
                "The best alternative (\(bestHeuristic.rawValue)) scored \(score(bestScore.total))/1.00, "
                    + "the current layout \(score(current.total))/1.00",
                "Final optimization score: \(score(current.total))/1.00",
            ],
            metadata: .init(
                algorithm: keptAlgorithm,
                alternativesEvaluated: validCount,
                devicesPlaced: candidates.count,
                totalDevices: candidates.count,
                currentScore: current.total,
                optimizedScore: current.total,
                improvementPercentage: current.total > 0 ? 0 : nil,
                weights: request.weights,
                scoreBreakdown: .init(current)))
    }
}
