import RackPlanning
import Testing

@Suite("Layout heuristics")
struct LayoutHeuristicTests {
    func starts(_ layout: [PlannedPosition]) -> [Int: Int] {
        Dictionary(uniqueKeysWithValues: layout.map { ($0.candidate.device.id, $0.startU) })
    }

    // FFD in a 12U rack:
    //   A id1 1U 10 kg · B id2 2U 5 kg · C id3 2U 15 kg · D id4 4U 1 kg · E id5 1.5U 0 kg
    // Order: height desc, then weight desc → D (4), C (2, 15 kg), B (2, 5 kg), E (1.5), A (1).
    //   D → U1 (U1-4) · C → U5 (U5-6) · B → U7 (U7-8) · E → U9 (blocks int(10.5) - 1 = U9 only) · A → U10
    let ffdCandidates = [
        Fixture.candidate(Fixture.device(1, heightU: 1, weightKG: 10), at: 12),
        Fixture.candidate(Fixture.device(2, heightU: 2, weightKG: 5), at: 10),
        Fixture.candidate(Fixture.device(3, heightU: 2, weightKG: 15), at: 8),
        Fixture.candidate(Fixture.device(4, heightU: 4, weightKG: 1), at: 1),
        Fixture.candidate(Fixture.device(5, heightU: 1.5), at: 6),
    ]

    @Test func firstFitDecreasingPacksTallestAndHeaviestFirst() {
        let layout = LayoutHeuristic.firstFitDecreasing.layout(ffdCandidates, totalHeightU: 12)
        #expect(layout.map(\.candidate.device.id) == [4, 3, 2, 5, 1])
        #expect(starts(layout) == [4: 1, 3: 5, 2: 7, 5: 9, 1: 10])
    }

    @Test func firstFitDecreasingBuildsAroundLockedDevices() {
        // A locked at U3: U3 is reserved first. D needs 4 free Us → U4 (U4-7); C (2U) → U1 (U1-2);
        // B (2U) → U2-3 and U3-4 clash → U8 (U8-9); E (1 unit) → U10; A stays at U3.
        var candidates = ffdCandidates
        candidates[0].locked = true
        candidates[0].currentStartU = 3
        let layout = LayoutHeuristic.firstFitDecreasing.layout(candidates, totalHeightU: 12)
        #expect(starts(layout) == [1: 3, 4: 4, 3: 1, 2: 8, 5: 10])
        #expect(layout.first?.candidate.device.id == 1)
    }

    @Test func firstFitDecreasingSkipsWhatDoesNotFit() {
        // 4U rack: the 4U device takes U1-4; the 1U device fits nowhere and is left out.
        let candidates = [
            Fixture.candidate(Fixture.device(1, heightU: 1), at: 1),
            Fixture.candidate(Fixture.device(2, heightU: 4), at: 2),
        ]
        let layout = LayoutHeuristic.firstFitDecreasing.layout(candidates, totalHeightU: 4)
        #expect(starts(layout) == [2: 1])
    }

    @Test func equalDevicesGoInIdOrder() {
        let candidates = [3, 1, 2].map { Fixture.candidate(Fixture.device($0, heightU: 1), at: 1) }
        let layout = LayoutHeuristic.firstFitDecreasing.layout(candidates, totalHeightU: 12)
        #expect(starts(layout) == [1: 1, 2: 2, 3: 3])
    }

    // Thermal Zone Balancing in a 12U rack (bottom third ends at U4, middle at U8):
    //   H1 id1 2U 2 000 BTU/hr (hot) · H2 id2 3U 1 800 (hot) · W1 id3 1U 800 (warm)
    //   L1 id4 2U 100 (cool) · L2 id5 1U 0 (cool)
    // Hot, tallest first: H2 → start ≤ 4 - 3 + 1 = 2 → U1 (U1-3).
    //   H1 → start ≤ 4 - 2 + 1 = 3: U1, U2, U3 all clash → anywhere, lowest free → U4 (U4-5).
    // Warm: W1 → starts 5 … 8: U5 taken → U6.
    // Cool, tallest first: L1 → lowest free pair → U7 (U7-8); L2 → U9.
    let tzbCandidates = [
        Fixture.candidate(Fixture.device(1, heightU: 2, heatBTU: 2000), at: 1),
        Fixture.candidate(Fixture.device(2, heightU: 3, heatBTU: 1800), at: 1),
        Fixture.candidate(Fixture.device(3, heightU: 1, heatBTU: 800), at: 1),
        Fixture.candidate(Fixture.device(4, heightU: 2, heatBTU: 100), at: 1),
        Fixture.candidate(Fixture.device(5, heightU: 1), at: 1),
    ]

    @Test func thermalZoneBalancingSendsHotDevicesDown() {
        let layout = LayoutHeuristic.thermalZoneBalancing.layout(tzbCandidates, totalHeightU: 12)
        #expect(layout.map(\.candidate.device.id) == [2, 1, 3, 4, 5])
        #expect(starts(layout) == [2: 1, 1: 4, 3: 6, 4: 7, 5: 9])
    }

    @Test func firstFitDecreasingPlacesTheSameDevicesDifferently() {
        // Same five devices, FFD order by height then id: H2 (3U), H1 (2U, id1), L1 (2U, id4),
        // W1 (1U, id3), L2 (1U, id5) → U1, U4, U6, U8, U9.
        let layout = LayoutHeuristic.firstFitDecreasing.layout(tzbCandidates, totalHeightU: 12)
        #expect(starts(layout) == [2: 1, 1: 4, 4: 6, 3: 8, 5: 9])
    }

    @Test func heatCategoryBoundariesAreStrict() {
        // Exactly 1 500 is warm, not hot; exactly 500 is cool, not warm. 12U: middle starts at U5.
        // 1 500 (1U) → middle → U5; 500 (1U) → lowest free → U1.
        let candidates = [
            Fixture.candidate(Fixture.device(1, heatBTU: 1500), at: 1),
            Fixture.candidate(Fixture.device(2, heatBTU: 500), at: 1),
        ]
        let layout = LayoutHeuristic.thermalZoneBalancing.layout(candidates, totalHeightU: 12)
        #expect(starts(layout) == [1: 5, 2: 1])
    }

    @Test func warmDevicesFallBackToAnywhereWhenTheMiddleIsFull() {
        // 6U rack: middle third is U3-4. A locked 2U device holds U3-4; a warm 1U device
        // cannot go in the middle → lowest free → U1.
        let candidates = [
            Fixture.candidate(Fixture.device(1, heightU: 2), at: 3, locked: true),
            Fixture.candidate(Fixture.device(2, heatBTU: 900), at: 6),
        ]
        let layout = LayoutHeuristic.thermalZoneBalancing.layout(candidates, totalHeightU: 6)
        #expect(starts(layout) == [1: 3, 2: 1])
    }

    @Test func hotDeviceTallerThanTheBottomThirdGoesAnywhere() {
        // 9U rack, bottom third U1-3; a hot 4U device cannot fit inside it → lowest free → U1.
        let candidates = [Fixture.candidate(Fixture.device(1, heightU: 4, heatBTU: 3000), at: 5)]
        let layout = LayoutHeuristic.thermalZoneBalancing.layout(candidates, totalHeightU: 9)
        #expect(starts(layout) == [1: 1])
    }

    @Test func lockedDevicesKeepTheirUnitsInBothHeuristics() {
        for heuristic in LayoutHeuristic.allCases {
            var candidates = tzbCandidates
            candidates[3].locked = true  // L1 (2U) locked at U1
            let layout = heuristic.layout(candidates, totalHeightU: 12)
            #expect(starts(layout)[4] == 1, "\(heuristic.rawValue)")
            let units = layout.flatMap { $0.candidate.profile.occupiedUnits(startingAt: $0.startU) }
            #expect(Set(units).count == units.count, "\(heuristic.rawValue) overlaps")
        }
    }
}
