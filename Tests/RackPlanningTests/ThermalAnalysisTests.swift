import RackPlanning
import Testing

@Suite("Thermal analysis")
struct ThermalAnalysisTests {
    // The worked example: a 42U rack (17 000 BTU/hr of cooling) with three devices.
    //
    //   A "Core Switch"  1U at U1,  150 W, no BTU recorded → 150 × 3.412 = 511.8 BTU/hr, front→back
    //   B "Storage"      2U at U20, 600 W, 2 100 BTU/hr recorded (used as is),   back→front
    //   C "GPU Server"   4U at U35, 1 000 W, no BTU → 3 412 BTU/hr,              front→back
    //
    // Zones (t = 14): U1 ≤ 14 bottom, U20 ≤ 28 middle, U35 > 28 top.
    //   bottom 511.8, middle 2 100, top 3 412; total 6 023.8 BTU/hr; power 1 750 W.
    // Cooling: 6 023.8 / 17 000 × 100 = 35.4341… → 35.43 % → optimal (< 70).
    //   capacity 17 000 / 12 000 = 1.4166… → 1.42 tons; remaining 10 976.2 BTU/hr → 0.9146… → 0.91 tons.
    // Hot spots (≥ 1 000): C 3 412 (high, ≥ 2 000), B 2 100 (high); A is below 1 000. Hottest first.
    // Conflicts by start_u: (A ftb, B btf) and (B btf, C ftb) → 2.
    // Recommendations, in order:
    //   35.43 < 40 → ℹ️ over-provisioned ("35.4%");
    //   all zones > 0 and 3 412 / 511.8 = 6.67 > 3 → ⚠️ imbalance;
    //   top 3 412 > 6 023.8 × 0.5 = 3 011.9 → ⚠️ top-heavy;
    //   2 conflicts → ⚠️ "Found 2";
    //   B and C are ≥ 1 500 → ℹ️ "2 high-heat device(s)".
    // Layout: (1 + 2 + 4) / 42 × 100 = 16.666… → 16.67 %; weight 3 + 20 + 30 = 53 kg.
    let rack = Fixture.rack(heightU: 42)
    let switchA = Fixture.device(1, name: "Core Switch", heightU: 1, watts: 150, weightKG: 3)
    let storageB = Fixture.device(
        2, name: "Storage", heightU: 2, watts: 600, heatBTU: 2100, weightKG: 20, airflow: .backToFront)
    let serverC = Fixture.device(3, name: "GPU Server", heightU: 4, watts: 1000, weightKG: 30)
    var positions: [RackPosition] {
        [Fixture.position(serverC, at: 35), Fixture.position(switchA, at: 1), Fixture.position(storageB, at: 20)]
    }

    @Test func threeDeviceRackSplitsHeatByZone() {
        let analysis = ThermalAnalysis(rack: rack, positions: positions, timestamp: "2025-01-02T03:04:05Z")
        let heat = analysis.heatDistribution
        #expect(heat.totalHeatBTUHr == 6023.8)
        #expect(heat.totalPowerWatts == 1750)
        #expect(heat.bottomZoneBTU == 511.8)
        #expect(heat.middleZoneBTU == 2100)
        #expect(heat.topZoneBTU == 3412)
        #expect(heat.deviceCount == 3)
        #expect(analysis.rackID == 1)
        #expect(analysis.rackName == "Lab")
        #expect(analysis.timestamp == "2025-01-02T03:04:05Z")
    }

    @Test func threeDeviceRackCoolingIsOptimalAt35Percent() {
        let cooling = ThermalAnalysis(rack: rack, positions: positions, timestamp: "t").coolingEfficiency
        #expect(cooling.coolingCapacityBTUHr == 17_000)
        #expect(cooling.coolingCapacityTons == 1.42)
        #expect(cooling.heatLoadBTUHr == 6023.8)
        #expect(cooling.utilizationPercent == 35.43)
        #expect(cooling.remainingCapacityBTUHr == 10_976.2)
        #expect(cooling.remainingCapacityTons == 0.91)
        #expect(cooling.status == .optimal)
    }

    @Test func threeDeviceRackHotSpotsAreHottestFirst() {
        let spots = ThermalAnalysis(rack: rack, positions: positions, timestamp: "t").hotSpots
        #expect(spots.map(\.deviceID) == [3, 2])
        #expect(
            spots[0]
                == HotSpot(
                    deviceID: 3, deviceName: "GPU Server", position: "U35", zone: .top, heatOutputBTUHr: 3412,
                    powerWatts: 1000, airflowPattern: .frontToBack, severity: .high))
        #expect(spots[1].zone == .middle)
        #expect(spots[1].heatOutputBTUHr == 2100)
        #expect(spots[1].severity == .high)
        #expect(spots[1].airflowPattern == .backToFront)
    }

    @Test func threeDeviceRackHasTwoOpposingAirflowPairs() {
        let conflicts = ThermalAnalysis(rack: rack, positions: positions, timestamp: "t").airflowConflicts
        #expect(conflicts.count == 2)
        #expect(conflicts[0].device1 == .init(id: 1, name: "Core Switch", position: "U1", airflow: .frontToBack))
        #expect(conflicts[0].device2 == .init(id: 2, name: "Storage", position: "U20", airflow: .backToFront))
        #expect(conflicts[1].device1.id == 2)
        #expect(conflicts[1].device2.id == 3)
        #expect(conflicts.allSatisfy { $0.type == "opposing_airflow" && $0.severity == "high" })
        #expect(
            conflicts[0].message == "Adjacent devices have opposing airflow patterns, causing hot air recirculation")
    }

    @Test func threeDeviceRackRecommendationsComeInOrder() {
        let lines = ThermalAnalysis(rack: rack, positions: positions, timestamp: "t").recommendations
        #expect(
            lines == [
                "ℹ️ Cooling capacity is only 35.4% utilized. System is over-provisioned for current load.",
                "⚠️ Significant thermal imbalance detected between zones. Consider redistributing high-heat devices for better airflow.",
                "⚠️ More than 50% of heat is in top zone. Move high-heat devices to bottom zone where intake air is coolest.",
                "⚠️ Found 2 airflow pattern conflict(s). Ensure all devices have consistent airflow direction.",
                "ℹ️ 2 high-heat device(s) detected (>1500 BTU/hr). Ensure adequate spacing and airflow around these devices.",
            ])
    }

    @Test func threeDeviceRackLayoutTotals() {
        let layout = RackLayout(rack: rack, positions: positions)
        #expect(layout.utilizationPercent == 16.67)
        #expect(layout.totalWeightKG == 53)
        #expect(layout.totalPowerWatts == 1750)
        #expect(layout.positions.count == 3)
    }

    @Test func balancedRackGetsTheSingleOptimalLine() {
        // 2 000 BTU/hr of cooling; three 150 W (511.8 BTU/hr) front-to-back devices at U1, U15, U29
        // (one per zone). Total 1 535.4 → 76.77 %: not > 90, not < 40. Zones equal (ratio 1),
        // top 511.8 ≤ 767.7, no conflicts, nobody ≥ 1 500 → only the ✓ line. Status: acceptable.
        let rack = Fixture.rack(coolingBTU: 2000)
        let positions = [1, 15, 29].enumerated().map {
            Fixture.position(Fixture.device($0.offset + 1, watts: 150), at: $0.element)
        }
        let analysis = ThermalAnalysis(rack: rack, positions: positions, timestamp: "t")
        #expect(analysis.coolingEfficiency.utilizationPercent == 76.77)
        #expect(analysis.coolingEfficiency.status == .acceptable)
        #expect(analysis.recommendations == ["✓ Thermal configuration is optimal. No issues detected."])
        #expect(analysis.hotSpots.isEmpty)
    }

    @Test func overNinetyPercentWarnsInsteadOfInforming() {
        // 1 900 BTU/hr from one 2U device at U1 in a 2 000 BTU/hr rack → 95 %: warning status,
        // ⚠️ utilization line. Only the bottom zone is warm (the imbalance rule needs all three),
        // top zone 0 ≤ 950, 1 900 ≥ 1 500 → the high-heat line; 1 900 ≥ 1 000 → a medium hot spot.
        let rack = Fixture.rack(coolingBTU: 2000)
        let positions = [Fixture.position(Fixture.device(1, heightU: 2, heatBTU: 1900), at: 1)]
        let analysis = ThermalAnalysis(rack: rack, positions: positions, timestamp: "t")
        #expect(analysis.coolingEfficiency.status == .warning)
        #expect(
            analysis.recommendations == [
                "⚠️ Cooling capacity is 95.0% utilized. Consider upgrading cooling or redistributing heat load.",
                "ℹ️ 1 high-heat device(s) detected (>1500 BTU/hr). Ensure adequate spacing and airflow around these devices.",
            ])
        #expect(analysis.hotSpots.map(\.severity) == [.medium])
    }

    @Test func emptyRackIsOverProvisioned() {
        let analysis = ThermalAnalysis(rack: Fixture.rack(), positions: [], timestamp: "t")
        #expect(analysis.heatDistribution.deviceCount == 0)
        #expect(analysis.coolingEfficiency.utilizationPercent == 0)
        #expect(
            analysis.recommendations == [
                "ℹ️ Cooling capacity is only 0.0% utilized. System is over-provisioned for current load."
            ])
    }

    @Test func missingOrZeroCoolingCapacityMeans17000() {
        for capacity in [nil, 0.0] {
            let rack = Fixture.rack(coolingBTU: capacity)
            let analysis = ThermalAnalysis(rack: rack, positions: [], timestamp: "t")
            #expect(analysis.coolingEfficiency.coolingCapacityBTUHr == 17_000)
        }
    }

    @Test func devicesWithoutPhysicalDataCountButAddNoHeat() {
        let positions = [
            Fixture.position(Fixture.bareDevice(9), at: 5),
            Fixture.position(Fixture.device(1, watts: 100), at: 1),
        ]
        let heat = ThermalAnalysis(rack: Fixture.rack(), positions: positions, timestamp: "t").heatDistribution
        #expect(heat.deviceCount == 2)
        #expect(heat.totalHeatBTUHr == 341.2)
    }

    @Test func catalogModelDevicesContributeHeat() {
        // The reference service read only specifications; a catalog device of 200 W adds 682.4 BTU/hr.
        let positions = [Fixture.position(Fixture.modelDevice(1, heightU: 1, watts: 200), at: 30)]
        let heat = ThermalAnalysis(rack: Fixture.rack(), positions: positions, timestamp: "t").heatDistribution
        #expect(heat.topZoneBTU == 682.4)
    }
}

@Suite("Thermal zones, statuses and thresholds")
struct ThermalRulesTests {
    @Test func fortyTwoUnitRackSplitsAt14And28() {
        #expect(ThermalZone(unit: 1, totalHeightU: 42) == .bottom)
        #expect(ThermalZone(unit: 14, totalHeightU: 42) == .bottom)
        #expect(ThermalZone(unit: 15, totalHeightU: 42) == .middle)
        #expect(ThermalZone(unit: 28, totalHeightU: 42) == .middle)
        #expect(ThermalZone(unit: 29, totalHeightU: 42) == .top)
        #expect(ThermalZone(unit: 42, totalHeightU: 42) == .top)
    }

    @Test func tenUnitRackUsesUnroundedThirds() {
        // t = 3.33…: U3 ≤ t bottom; U4 ≤ 6.67 middle; U6 middle; U7 top.
        #expect(ThermalZone(unit: 3, totalHeightU: 10) == .bottom)
        #expect(ThermalZone(unit: 4, totalHeightU: 10) == .middle)
        #expect(ThermalZone(unit: 6, totalHeightU: 10) == .middle)
        #expect(ThermalZone(unit: 7, totalHeightU: 10) == .top)
    }

    @Test func coolingStatusThresholds() {
        // Capacity 10 000: 6 999 → 69.99 % optimal; 7 000 → 70 % acceptable; 8 499 acceptable;
        // 8 500 → 85 % warning; 9 999 warning; 10 000 → 100 % critical.
        let expected: [(Double, CoolingEfficiency.Status)] = [
            (6999, .optimal), (7000, .acceptable), (8499, .acceptable), (8500, .warning), (9999, .warning),
            (10_000, .critical), (12_000, .critical),
        ]
        for (heat, status) in expected {
            #expect(CoolingEfficiency(heatLoadBTU: heat, capacityBTU: 10_000).status == status, "heat \(heat)")
        }
    }

    @Test func overloadLeavesNoRemainingCapacity() {
        let cooling = CoolingEfficiency(heatLoadBTU: 12_000, capacityBTU: 10_000)
        #expect(cooling.utilizationPercent == 120)
        #expect(cooling.remainingCapacityBTUHr == 0)
        #expect(cooling.remainingCapacityTons == 0)
    }

    @Test func hotSpotThresholdAndSeverityBoundaries() {
        // 999.99 is not a hot spot; 1 000 is (medium); 1 999.99 medium; 2 000 high.
        let heats = [999.99, 1000, 1999.99, 2000]
        let positions = heats.enumerated().map {
            Fixture.position(Fixture.device($0.offset + 1, heatBTU: $0.element), at: $0.offset + 1)
        }
        let spots = ThermalAnalysis(rack: Fixture.rack(), positions: positions, timestamp: "t").hotSpots
        #expect(spots.map(\.deviceID) == [4, 3, 2])
        #expect(spots.map(\.severity) == [.high, .medium, .medium])
    }

    @Test func hotSpotNamesFallBackToBrandAndModel() {
        let positions = [Fixture.position(Fixture.device(7, heatBTU: 1200), at: 3)]
        let spot = ThermalAnalysis(rack: Fixture.rack(), positions: positions, timestamp: "t").hotSpots[0]
        #expect(spot.deviceName == "Acme M7")
        #expect(spot.position == "U3")
        #expect(spot.powerWatts == 0)
    }

    @Test func recordedZeroBTUFallsBackToWatts() {
        // heat_output_btu 0 is "not recorded": 300 W → 1 023.6 BTU/hr, a hot spot.
        let positions = [Fixture.position(Fixture.device(1, watts: 300, heatBTU: 0), at: 1)]
        let spots = ThermalAnalysis(rack: Fixture.rack(), positions: positions, timestamp: "t").hotSpots
        #expect(spots.map(\.heatOutputBTUHr) == [1023.6])
    }

    @Test func sideToSideAndPassiveDevicesBreakConflicts() {
        // ftb U1, sts U5, btf U10, passive U20, ftb U30: no consecutive pair is ftb/btf.
        let airflows: [AirflowPattern] = [.frontToBack, .sideToSide, .backToFront, .passive, .frontToBack]
        let starts = [1, 5, 10, 20, 30]
        let positions = zip(airflows, starts).enumerated().map {
            Fixture.position(Fixture.device($0.offset + 1, airflow: $0.element.0), at: $0.element.1)
        }
        #expect(ThermalAnalysis(rack: Fixture.rack(), positions: positions, timestamp: "t").airflowConflicts.isEmpty)
    }

    @Test func conflictsIgnoreGapsAndCheckBothOrders() {
        // btf at U2, ftb at U40: far apart but consecutive → one conflict, back-to-front first.
        let positions = [
            Fixture.position(Fixture.device(1), at: 40),
            Fixture.position(Fixture.device(2, airflow: .backToFront), at: 2),
        ]
        let conflicts = ThermalAnalysis(rack: Fixture.rack(), positions: positions, timestamp: "t").airflowConflicts
        #expect(conflicts.map(\.device1.airflow) == [.backToFront])
        #expect(conflicts.map(\.device2.position) == ["U40"])
    }

    @Test func missingAirflowCountsAsFrontToBack() {
        // A catalog device with no airflow recorded, below a back-to-front device → conflict.
        let positions = [
            Fixture.position(Fixture.modelDevice(1, heightU: 1), at: 1),
            Fixture.position(Fixture.device(2, airflow: .backToFront), at: 2),
        ]
        let conflicts = ThermalAnalysis(rack: Fixture.rack(), positions: positions, timestamp: "t").airflowConflicts
        #expect(conflicts.count == 1)
        #expect(conflicts[0].device1 == .init(id: 1, name: "Ubiquiti Model 1", position: "U1", airflow: .frontToBack))
    }

    @Test func imbalanceNeedsAllThreeZonesWarm() {
        // Heat only in bottom and top (middle 0): no imbalance line, even at 10:1.
        // 3 000 bottom + 300 top = 3 300 BTU/hr of 10 000 → 33 % (info line); top 300 ≤ 1 650.
        let rack = Fixture.rack(coolingBTU: 10_000)
        let positions = [
            Fixture.position(Fixture.device(1, heatBTU: 3000), at: 1),
            Fixture.position(Fixture.device(2, heatBTU: 300), at: 40),
        ]
        let lines = ThermalAnalysis(rack: rack, positions: positions, timestamp: "t").recommendations
        #expect(!lines.contains { $0.contains("imbalance") })
        #expect(lines.count == 2)  // over-provisioned + one high-heat device
    }
}
