import RackPlanning
import Testing

@Suite("Optimizer scores")
struct LayoutScorerTests {
    // The tiny layout: a 12U rack (t = 4: bottom U1-4, middle U5-8, top U9-12), 100 kg,
    // 1 000 W and 10 000 BTU/hr.
    //   D1 2U at U1: 20 kg, 200 W, 2 000 BTU/hr recorded, access high  → midpoint 1 + 1 = 2 → bottom
    //   D2 1U at U5:  5 kg, 100 W, 341.2 BTU/hr (100 × 3.412), medium → midpoint 5.5 → int 5 → middle
    //   D3 2U at U9: 30 kg, 400 W, 1 600 BTU/hr recorded, access high  → midpoint 10 → top
    // Connections: D1–D2 and D2–D3 (both 4U apart), D1–D99 (D99 not placed: ignored).
    let rack = Fixture.rack(heightU: 12, maxWeightKG: 100, maxPowerWatts: 1000, coolingBTU: 10_000)
    let d1 = Fixture.candidate(
        Fixture.device(1, heightU: 2, watts: 200, heatBTU: 2000, weightKG: 20, access: .high), at: 1)
    let d2 = Fixture.candidate(Fixture.device(2, heightU: 1, watts: 100, weightKG: 5), at: 5)
    let d3 = Fixture.candidate(
        Fixture.device(3, heightU: 2, watts: 400, heatBTU: 1600, weightKG: 30, access: .high), at: 9)
    var layout: [PlannedPosition] {
        [Fixture.planned(d1, at: 1), Fixture.planned(d2, at: 5), Fixture.planned(d3, at: 9)]
    }
    let connections = [
        Connection(id: 1, fromDeviceID: 1, toDeviceID: 2),
        Connection(id: 2, fromDeviceID: 2, toDeviceID: 3),
        Connection(id: 3, fromDeviceID: 1, toDeviceID: 99),
    ]

    func scorer(_ weights: OptimizationWeights = .standard, connections: [Connection]? = nil) -> LayoutScorer {
        LayoutScorer(
            rack: rack, candidates: [d1, d2, d3], connections: connections ?? self.connections, weights: weights)
    }

    @Test func thermalFactorByHand() {
        // zone balance: heats bottom 2 000, middle 341.2, top 1 600 → 341.2 / 2 000 = 0.1706
        // spacing: hot (> 1 500) D1 at U1, D3 at U9 → mean |Δ| 8 ÷ (12 / 3) = 2 → capped 1
        // headroom: 1 - 3 941.2 / 10 000 = 0.60588
        // bottom bias: (2/12 × 2 000 + 5.5/12 × 341.2 + 10/12 × 1 600) / 3 941.2 = 0.46256 ≤ 0.5 → 0.7
        // thermal = 0.3 × 0.1706 + 0.3 × 1 + 0.2 × 0.60588 + 0.2 × 0.7 = 0.612356
        #expect(approx(scorer().thermalScore(layout), 0.612356))
    }

    @Test func cableFactorByHand() {
        // two connections with both ends placed, each 4U apart: mean 4 ÷ 12 → 1 - 0.3333 = 0.6667
        // same zone: D1 bottom/D2 middle, D2 middle/D3 top → 0 of 2
        // cable = 0.6 × 0.6667 + 0.4 × 0 = 0.4
        #expect(approx(scorer().cableScore(layout), 0.4))
    }

    @Test func weightFactorByHand() {
        // zones: bottom 20, middle 5, top 30; top outweighs the middle → min(20, 5) ÷ 30 = 0.1667
        // headroom: 1 - 55 / 100 = 0.45
        // weight = 0.7 × 0.1667 + 0.3 × 0.45 = 0.251667
        #expect(approx(scorer().weightScore(layout), 0.251667))
    }

    @Test func accessFactorByHand() {
        // high-access D1 (bottom) and D3 (top): none in the middle → 0 / 2 = 0
        #expect(scorer().accessScore(layout) == 0)
        // Move D3 to U5 (midpoint 6 → middle) and D2 to U9: 1 / 2.
        let moved = [Fixture.planned(d1, at: 1), Fixture.planned(d2, at: 9), Fixture.planned(d3, at: 5)]
        #expect(scorer().accessScore(moved) == 0.5)
    }

    @Test func powerFactorByHand() {
        // zones 200 / 100 / 400 W → 100 ÷ 400 = 0.25; headroom 1 - 700 / 1 000 = 0.3
        // power = 0.6 × 0.25 + 0.4 × 0.3 = 0.27 (reported, not weighted)
        #expect(approx(scorer().powerScore(layout), 0.27))
    }

    @Test func totalIsTheWeightedSum() {
        // 0.30 × 0.4 + 0.25 × 0.251667 + 0.25 × 0.612356 + 0.20 × 0 = 0.336006
        let score = scorer().score(layout)
        #expect(approx(score.total, 0.336006))
        #expect(approx(score.powerDistribution, 0.27))
        // All weight on access: the total is the access factor.
        #expect(scorer(OptimizationWeights(cable: 0, weight: 0, thermal: 0, access: 1)).score(layout).total == 0)
    }

    @Test func totalIsClampedToOne() {
        // Weights are validated to sum to ~1, but the scorer clamps whatever it is given.
        let heavy = OptimizationWeights(cable: 2, weight: 2, thermal: 2, access: 2)
        #expect(scorer(heavy).score([]).total == 1)
    }

    @Test func spacingBelowATenthOfTheRackIsPartial() {
        // Two hot devices at U1 and U3 in 12U: |Δ| 2 ÷ 4 = 0.5.
        // Zones: U1 (mid 1.5 → 1) bottom, U3 (mid 3.5 → 3) bottom: balance 0 ÷ 3 700 = 0.
        // headroom 1 - 0.37 = 0.63; centre (1.5/12 × 2 000 + 3.5/12 × 1 700) / 3 700 = 0.2016 → 1.
        // thermal = 0 + 0.3 × 0.5 + 0.2 × 0.63 + 0.2 × 1 = 0.476
        let a = Fixture.candidate(Fixture.device(1, heatBTU: 2000), at: 1)
        let b = Fixture.candidate(Fixture.device(2, heatBTU: 1700), at: 3)
        let scorer = LayoutScorer(rack: rack, candidates: [a, b], connections: [], weights: .standard)
        #expect(approx(scorer.thermalScore([Fixture.planned(a, at: 1), Fixture.planned(b, at: 3)]), 0.476))
    }

    @Test func topHeavyHeatScoresPointThreeOnBias() {
        // One 1 000 BTU/hr device at U12 (mid 12.5): centre 12.5 / 12 > 0.5 → 0.3.
        // balance 0, spacing 1, headroom 0.9 → 0 + 0.3 + 0.18 + 0.06 = 0.54
        let a = Fixture.candidate(Fixture.device(1, heatBTU: 1000), at: 12)
        let scorer = LayoutScorer(rack: rack, candidates: [a], connections: [], weights: .standard)
        #expect(approx(scorer.thermalScore([Fixture.planned(a, at: 12)]), 0.54))
    }

    @Test func bottomHeavyWeightUsesLightestOverHeaviest() {
        // bottom 30, middle 20, top 10: the top outweighs neither → 10 ÷ 30; headroom 1 - 0.6 = 0.4.
        // weight = 0.7 × 0.3333 + 0.3 × 0.4 = 0.353333
        let a = Fixture.candidate(Fixture.device(1, weightKG: 30), at: 1)
        let b = Fixture.candidate(Fixture.device(2, weightKG: 20), at: 5)
        let c = Fixture.candidate(Fixture.device(3, weightKG: 10), at: 9)
        let scorer = LayoutScorer(rack: rack, candidates: [a, b, c], connections: [], weights: .standard)
        let layout = [Fixture.planned(a, at: 1), Fixture.planned(b, at: 5), Fixture.planned(c, at: 9)]
        #expect(approx(scorer.weightScore(layout), 0.353333))
    }

    @Test func sameZoneConnectionsScoreLocality() {
        let layout = [Fixture.planned(d1, at: 1), Fixture.planned(d2, at: 3)]
        let only = [Connection(id: 1, fromDeviceID: 1, toDeviceID: 2)]
        // D1 at U1 (mid 2) and D2 at U3 (mid 3.5 → 3), both bottom, 2U apart:
        // 0.6 × (1 - 2/12) + 0.4 × 1 = 0.9
        #expect(approx(scorer(connections: only).cableScore(layout), 0.9))
    }

    @Test func noPlacedConnectionsScoreOne() {
        let unplaced = [Connection(id: 1, fromDeviceID: 1, toDeviceID: 42)]
        #expect(scorer(connections: unplaced).cableScore(layout) == 1)
        #expect(scorer(connections: []).cableScore(layout) == 1)
    }

    @Test func unplacedHighAccessCandidateCountsAgainstAccess() {
        // D3 (high) left out of the layout, D1 (high) in the middle: 1 of 2.
        let layout = [Fixture.planned(d1, at: 5), Fixture.planned(d2, at: 1)]
        #expect(scorer().accessScore(layout) == 0.5)
    }

    @Test func noHighAccessDevicesScoresOne() {
        let scorer = LayoutScorer(rack: rack, candidates: [d2], connections: [], weights: .standard)
        #expect(scorer.accessScore([Fixture.planned(d2, at: 12)]) == 1)
    }

    @Test func emptyLayoutScoresOneEverywhere() {
        let score = scorer().score([])
        #expect(score.thermalManagement == 1)
        #expect(score.cableManagement == 1)
        #expect(score.weightDistribution == 1)
        #expect(score.accessFrequency == 1)
        #expect(score.total == 1)
    }

    @Test func zeroLimitsMeanNoHeadroomOnceUsed() {
        // max_weight_kg 0 with 10 kg placed: headroom 0; balance (all bottom) 0 / 10 = 0 → weight 0.
        let rack = Fixture.rack(heightU: 12, maxWeightKG: 0)
        let a = Fixture.candidate(Fixture.device(1, weightKG: 10), at: 1)
        let scorer = LayoutScorer(rack: rack, candidates: [a], connections: [], weights: .standard)
        #expect(scorer.weightScore([Fixture.planned(a, at: 1)]) == 0)
    }
}
