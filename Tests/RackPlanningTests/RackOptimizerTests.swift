import Foundation
import RackPlanning
import Testing

@Suite("Rack optimizer")
struct RackOptimizerTests {
    let rack = Fixture.rack(heightU: 12, maxWeightKG: 100, maxPowerWatts: 1000, coolingBTU: 10_000)

    func optimize(
        _ positions: [RackPosition], rack: Rack? = nil, request: OptimizationRequest = .init(),
        connections: [Connection] = []
    ) throws(RackPlanningError) -> OptimizationResult {
        try RackOptimizer.optimize(
            request, rackID: 1, rack: rack ?? self.rack, positions: positions, connections: connections)
    }

    @Test func singleDeviceMovesFromTheTopToU1() throws {
        // 12U rack, one 1U device (100 W → 341.2 BTU/hr, 10 kg, medium access) at U12.
        // Current (mid 12.5 → top):
        //   thermal: balance 0, spacing 1, headroom 1 - 0.03412 = 0.96588, bias 12.5/12 > 0.5 → 0.3
        //            → 0 + 0.3 + 0.193176 + 0.06 = 0.553176
        //   weight: top 10 outweighs middle 0 → min(0, 0)/10 = 0; headroom 0.9 → 0.27
        //   cable 1 (no connections), access 1 (no high-access devices)
        //   total = 0.3 × 1 + 0.25 × 0.27 + 0.25 × 0.553176 + 0.2 × 1 = 0.705794
        // First-Fit Decreasing: U1 (mid 1.5 → bottom): bias 1.5/12 = 0.125 → 1 → thermal 0.693176;
        //   weight still 0 / 10 → 0.27 → total 0.740794.
        // Thermal Zone Balancing: 341.2 ≤ 500 → low → lowest free → U1: the same total; FFD wins the tie.
        // Improvement: (0.740794 - 0.705794) / 0.705794 × 100 = 4.96 → 5.0 %.
        // Thermal gained 0.14 > 0.05: "14.0% (55.32% → 69.32%)"; power (0.36 both) and others did not.
        let device = Fixture.device(1, watts: 100, weightKG: 10)
        let result = try optimize([Fixture.position(device, at: 12)])

        #expect(result.positions == [RackPosition(id: nil, rackID: 1, device: device, startU: 1, locked: false)])
        #expect(approx(result.score.thermalManagement, 0.693176))
        #expect(approx(result.score.weightDistribution, 0.27))
        #expect(result.score.cableManagement == 1)
        #expect(result.score.accessFrequency == 1)
        #expect(approx(result.score.total, 0.740794))

        let metadata = result.metadata
        #expect(metadata.algorithm == "First-Fit Decreasing")
        #expect(metadata.alternativesEvaluated == 2)
        #expect(metadata.devicesPlaced == 1)
        #expect(metadata.totalDevices == 1)
        #expect(approx(metadata.currentScore ?? 0, 0.705794))
        #expect(approx(metadata.optimizedScore, 0.740794))
        #expect(metadata.improvementPercentage == 5.0)
        #expect(metadata.weights == .standard)
        #expect(metadata.scoreBreakdown == .init(result.score))

        #expect(
            result.improvements == [
                "Overall improvement: +5.0%",
                "Thermal efficiency improved by 14.0% (55.32% → 69.32%)",
                "Optimization algorithm: First-Fit Decreasing",
                "Final optimization score: 0.74/1.00",
            ])
    }

    @Test func currentLayoutIsKeptWhenEveryHeuristicScoresWorse() throws {
        // 12U rack; a high-access 1U switch at U6 (midpoint U6: the middle zone, access 1) and a
        // 1U patch panel at U1. Both heuristics pack the switch low (U1 or U2, the bottom zone),
        // losing the whole access factor (0.2 of the total) for a smaller thermal gain.
        let rack = Fixture.rack(heightU: 12, maxWeightKG: 100, maxPowerWatts: 1000, coolingBTU: 10_000)
        let switchDevice = Fixture.device(1, watts: 60, weightKG: 4, access: .high)
        let panel = Fixture.device(2, weightKG: 1, access: .low)
        let positions = [Fixture.position(switchDevice, at: 6), Fixture.position(panel, at: 1)]

        // The heuristics alone would propose something worse than the current layout.
        let candidates = PlacementCandidate.candidates(from: positions, rackID: 1, lockedDeviceIDs: [])
        let scorer = LayoutScorer(rack: rack, candidates: candidates, connections: [], weights: .standard)
        let current = scorer.score(candidates.map { PlannedPosition(candidate: $0, startU: $0.currentStartU) })
        for heuristic in LayoutHeuristic.allCases {
            let proposed = scorer.score(heuristic.layout(candidates, totalHeightU: 12))
            #expect(proposed.total < current.total, "\(heuristic.rawValue) scores \(proposed.total) ≥ \(current.total)")
        }

        let result = try optimize(positions, rack: rack)
        #expect(
            result.positions == [
                RackPosition(id: nil, rackID: 1, device: panel, startU: 1, locked: false),
                RackPosition(id: nil, rackID: 1, device: switchDevice, startU: 6, locked: false),
            ])
        #expect(result.score == current)
        #expect(result.metadata.algorithm == RackOptimizer.keptAlgorithm)
        #expect(result.metadata.optimizedScore == current.total)
        #expect(result.metadata.currentScore == current.total)
        #expect(result.metadata.improvementPercentage == 0)
        #expect(result.metadata.devicesPlaced == 2)
        #expect(result.improvements.first == "No improvement found: the current layout is kept")
    }

    @Test func thermalZoneBalancingWinsWhenItPutsTheHotDeviceLowest() throws {
        // 12U rack, 10 000 BTU/hr. H (id 1): 1U, 2 000 BTU/hr, currently U12. T (id 2): 3U, cold, at U1.
        // FFD: T (taller) → U1-3, H → U4 (mid 4.5 → bottom); bias: 4.5/12 = 0.375 → 0.7.
        // TZB: H is hot → bottom third → U1; T → U2-4; bias 1.5/12 = 0.125 → 1.
        // Both: balance 0 (all heat in the bottom), spacing 1, headroom 1 - 0.2 = 0.8;
        // weight, cable, access 1 → total = 0.75 + 0.25 × thermal.
        //   FFD thermal 0.3 + 0.16 + 0.14 = 0.60 → 0.90; TZB 0.3 + 0.16 + 0.2 = 0.66 → 0.915.
        // Current (H top, bias 12.5/12 → 0.3): thermal 0.52 → 0.88.
        // Improvement (0.915 - 0.88) / 0.88 × 100 = 3.977 → 4.0 %; thermal +0.14 (52.00% → 66.00%).
        let hot = Fixture.device(1, heatBTU: 2000)
        let tall = Fixture.device(2, heightU: 3)
        let result = try optimize([Fixture.position(hot, at: 12), Fixture.position(tall, at: 1)])
        #expect(result.metadata.algorithm == "Thermal Zone Balancing")
        #expect(result.positions.map(\.deviceID) == [1, 2])
        #expect(result.positions.map(\.startU) == [1, 2])
        #expect(approx(result.score.total, 0.915))
        #expect(approx(result.metadata.currentScore ?? 0, 0.88))
        #expect(result.metadata.improvementPercentage == 4.0)
        #expect(
            result.improvements == [
                "Overall improvement: +4.0%",
                "Thermal efficiency improved by 14.0% (52.00% → 66.00%)",
                "Optimization algorithm: Thermal Zone Balancing",
                "Final optimization score: 0.92/1.00",
            ])
    }

    @Test func lockedDevicesStayPutAndAreMarkedLocked() throws {
        // B (4U) is locked at U1 by its stored flag; A (4U, high access, all weight on access) at U9.
        // Current: A mid 11 → top → access 0 → total 0 → no improvement percentage, and the
        // improvements list strengths instead of gains. Optimized: B keeps U1-4, A → U5 (mid 7,
        // middle) → access 1. Nothing draws power or weighs anything, so every factor is 1.
        let highAccess = Fixture.device(1, heightU: 4, access: .high)
        let locked = Fixture.device(2, heightU: 4, access: .low)
        let request = OptimizationRequest(weights: .init(cable: 0, weight: 0, thermal: 0, access: 1))
        let result = try optimize(
            [Fixture.position(highAccess, at: 9), Fixture.position(locked, at: 1, locked: true)], request: request)

        #expect(result.positions.map(\.deviceID) == [2, 1])
        #expect(result.positions.map(\.startU) == [1, 5])
        #expect(result.positions.map(\.locked) == [true, false])
        #expect(result.positions.allSatisfy { $0.id == nil })
        #expect(result.metadata.currentScore == 0)
        #expect(result.metadata.improvementPercentage == nil)
        #expect(
            result.improvements == [
                "Generated optimized layout using First-Fit Decreasing algorithm",
                "Overall optimization score: 1.00/1.00",
                "Excellent thermal distribution (100.00%)",
                "Well-balanced power distribution (100.00%)",
                "Optimized cable routing (100.00%)",
                "Optimal device accessibility (100.00%)",
                "Stable weight distribution (100.00%)",
                "Optimization algorithm: First-Fit Decreasing",
                "Final optimization score: 1.00/1.00",
            ])
    }

    @Test func requestLockKeepsADeviceAtItsCurrentUnit() throws {
        // Device 1 (1U) locked by the request at U7; device 2 (2U) is placed around it at U1.
        let one = Fixture.device(1)
        let two = Fixture.device(2, heightU: 2)
        let result = try optimize(
            [Fixture.position(one, at: 7), Fixture.position(two, at: 10)],
            request: OptimizationRequest(lockedPositions: [1]))
        #expect(result.positions.map(\.deviceID) == [2, 1])
        #expect(result.positions.map(\.startU) == [1, 7])
        #expect(result.positions.map(\.locked) == [false, true])
    }

    @Test func lockedDeviceNotInTheRackMakesEveryLayoutInvalid() {
        #expect(throws: RackPlanningError.noValidLayout) {
            try optimize(
                [Fixture.position(Fixture.device(1), at: 3)], request: OptimizationRequest(lockedPositions: [99]))
        }
        do {
            _ = try optimize(
                [Fixture.position(Fixture.device(1), at: 3)], request: OptimizationRequest(lockedPositions: [99]))
        } catch {
            #expect(error.status == 400)
            #expect(
                error.detail.contains("First-Fit Decreasing: Locked device 'Device 99' (ID 99) missing from solution"))
        }
    }

    @Test func onlyThisRacksDevicesAreCandidates() throws {
        // Device 2 sits in rack 2; device 3 has no physical data. Only device 1 is a candidate.
        let positions = [
            Fixture.position(Fixture.device(1), at: 5),
            Fixture.position(Fixture.device(2), at: 5, rack: 2),
            Fixture.position(Fixture.bareDevice(3), at: 8),
        ]
        let result = try optimize(positions)
        #expect(result.metadata.totalDevices == 1)
        #expect(result.positions.map(\.deviceID) == [1])
    }

    @Test func catalogModelDevicesAreCandidates() throws {
        let result = try optimize([Fixture.position(Fixture.modelDevice(1, heightU: 2, watts: 50), at: 9)])
        #expect(result.positions.map(\.startU) == [1])
    }

    @Test func unfittableDevicesAreLeftOutAndCounted() throws {
        // 4U rack: two 3U devices; only one fits.
        let rack = Fixture.rack(heightU: 4)
        let result = try optimize(
            [
                Fixture.position(Fixture.device(1, heightU: 3), at: 1),
                Fixture.position(Fixture.device(2, heightU: 3), at: 2),
            ],
            rack: rack)
        #expect(result.metadata.devicesPlaced == 1)
        #expect(result.metadata.totalDevices == 2)
    }

    // MARK: errors, in order

    @Test func invalidWeightsAreRejectedBeforeTheRackIsLookedUp() {
        let request = OptimizationRequest(weights: .init(cable: 0.5))
        do {
            _ = try RackOptimizer.optimize(request, rackID: 7, rack: nil, positions: [], connections: [])
            Issue.record("expected a validation error")
        } catch {
            #expect(error == .validationFailed)
            #expect(error.status == 422)
            #expect(error.errorCode == "VALIDATION_ERROR")
            #expect(error.fieldErrors.map(\.field) == ["weights"])
        }
    }

    @Test func missingRackIsNotFound() {
        do {
            _ = try RackOptimizer.optimize(.init(), rackID: 7, rack: nil, positions: [], connections: [])
            Issue.record("expected a 404")
        } catch {
            #expect(error == .rackNotFound)
            #expect(error.status == 404)
            #expect(error.detail == "Rack 7 not found")
        }
    }

    @Test func rackWithoutCandidatesIsABadRequest() {
        #expect(throws: RackPlanningError.nothingToOptimize) { try optimize([]) }
        #expect(throws: RackPlanningError.nothingToOptimize) {
            try optimize([Fixture.position(Fixture.bareDevice(1), at: 1)])
        }
    }

    @Test func powerOverTheLimitInvalidatesBothLayouts() {
        // Two 300 W devices in a 500 W rack: 600 W > 500 W whichever layout.
        let rack = Fixture.rack(heightU: 12, maxPowerWatts: 500)
        let positions = [
            Fixture.position(Fixture.device(1, watts: 300), at: 1),
            Fixture.position(Fixture.device(2, watts: 300), at: 2),
        ]
        do {
            _ = try optimize(positions, rack: rack)
            Issue.record("expected a 400")
        } catch {
            #expect(error == .noValidLayout)
            #expect(error.status == 400)
            #expect(error.detail.contains("First-Fit Decreasing: Power budget exceeded: 600W > 500W"))
            #expect(error.detail.contains("Thermal Zone Balancing: Power budget exceeded: 600W > 500W"))
        }
    }

    @Test func weightOverTheLimitInvalidatesTheLayout() {
        let rack = Fixture.rack(heightU: 12, maxWeightKG: 50)
        #expect(throws: RackPlanningError.noValidLayout) {
            try optimize([Fixture.position(Fixture.device(1, weightKG: 60), at: 1)], rack: rack)
        }
    }

    @Test func heatOverTheDefaultCoolingCapacityInvalidatesTheLayout() {
        // No capacity recorded → 17 000 BTU/hr; 2 × 9 000 = 18 000 > 17 000.
        let rack = Fixture.rack(heightU: 12, maxPowerWatts: 50_000, coolingBTU: nil)
        let positions = [
            Fixture.position(Fixture.device(1, heatBTU: 9000), at: 1),
            Fixture.position(Fixture.device(2, heatBTU: 9000), at: 2),
        ]
        do {
            _ = try optimize(positions, rack: rack)
            Issue.record("expected a 400")
        } catch {
            #expect(error.detail.contains("Cooling capacity exceeded: 18000 BTU/hr > 17000 BTU/hr"))
        }
    }

    // MARK: JSON

    @Test func resultEncodesProposedIdsAndMissingPercentageAsNull() throws {
        let request = OptimizationRequest(weights: .init(cable: 0, weight: 0, thermal: 0, access: 1))
        let result = try optimize(
            [Fixture.position(Fixture.device(1, heightU: 4, access: .high), at: 9)], request: request)
        let data = try JSONEncoder().encode(result)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let positions = try #require(json["positions"] as? [[String: Any]])
        #expect(positions[0]["id"] is NSNull)
        #expect(positions[0]["start_u"] as? Int == 1)
        let metadata = try #require(json["metadata"] as? [String: Any])
        #expect(metadata["improvement_percentage"] is NSNull)
        #expect(metadata["current_score"] as? Double == 0)
        #expect(
            Set((metadata["score_breakdown"] as? [String: Any])?.keys.map { $0 } ?? []) == [
                "cable_management", "weight_distribution", "thermal_management", "access_frequency",
            ])
        #expect(
            Set((json["score"] as? [String: Any])?.keys.map { $0 } ?? []) == [
                "cable_management", "weight_distribution", "thermal_management", "access_frequency", "total",
            ])
    }
}
