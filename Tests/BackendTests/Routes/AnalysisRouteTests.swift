import Backend
import Foundation
import HummingbirdTesting
import RackPlanning
import Testing

@Suite("Routes: rack analysis")
struct AnalysisRouteTests {
    /// 2025-06-15T15:06:40Z.
    static let fixedNow = Date(timeIntervalSince1970: 1_750_000_000)

    /// A 12U rack (zones U1-4, U5-8, U9-12) with 10 000 BTU/hr of cooling, holding a 300 W
    /// firewall at U2, a NAS recording 400 BTU/hr at U6 and a 500 W back-to-front server at U10.
    @Test(arguments: TestDatabases.kinds)
    func thermalAnalysisMatchesAHandComputedRack(kind: StoreKind) async throws {
        try await APITest.withAPI(kind, configure: { $0.now = { Self.fixedNow } }) { api, services in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack("Lab", height: 12, fields: ["cooling_capacity_btu": 10_000])
            let firewall = try await fixture.device("Firewall", watts: 300)
            let nas = try await fixture.device("NAS", watts: 200, heatBTU: 400)
            let server = try await fixture.device("Server", heightU: 2, watts: 500, airflow: .backToFront)
            _ = try await fixture.placed(firewall, in: rack, at: 2)
            _ = try await fixture.placed(nas, in: rack, at: 6)
            _ = try await fixture.placed(server, in: rack, at: 10)

            let response = try await api.get("/api/racks/\(rack.id)/thermal-analysis")

            #expect(response.status == .ok)
            let analysis = try response.decode(ThermalAnalysis.self)
            #expect(analysis.rackID == rack.id && analysis.rackName == "Lab")
            #expect(analysis.timestamp == "2025-06-15T15:06:40.000000Z")
            // Heat: 300 W × 3.412 = 1023.6; the NAS's recorded 400; 500 W × 3.412 = 1706.
            #expect(
                analysis.heatDistribution
                    == HeatDistribution(
                        totalHeatBTUHr: 3129.6, totalPowerWatts: 1000, bottomZoneBTU: 1023.6, middleZoneBTU: 400,
                        topZoneBTU: 1706, deviceCount: 3))
            // 3129.6 of 10 000: 31.3 %, 6870.4 left (0.57 t of 0.83 t).
            let cooling = analysis.coolingEfficiency
            #expect(cooling.coolingCapacityBTUHr == 10_000 && cooling.coolingCapacityTons == 0.83)
            #expect(cooling.heatLoadBTUHr == 3129.6 && cooling.utilizationPercent == 31.3)
            #expect(cooling.remainingCapacityBTUHr == 6870.4 && cooling.remainingCapacityTons == 0.57)
            #expect(cooling.status == .optimal)
            // Hot spots (≥ 1000 BTU/hr), hottest first; none reaches 2000, so both are medium.
            #expect(
                analysis.hotSpots == [
                    HotSpot(
                        deviceID: server.id, deviceName: "Server", position: "U10", zone: .top,
                        heatOutputBTUHr: 1706, powerWatts: 500, airflowPattern: .backToFront, severity: .medium),
                    HotSpot(
                        deviceID: firewall.id, deviceName: "Firewall", position: "U2", zone: .bottom,
                        heatOutputBTUHr: 1023.6, powerWatts: 300, airflowPattern: .frontToBack, severity: .medium),
                ])
            // Neighbours by start_u: firewall-NAS agree, NAS-server oppose.
            #expect(
                analysis.airflowConflicts == [
                    AirflowConflict(
                        device1: .init(id: nas.id, name: "NAS", position: "U6", airflow: .frontToBack),
                        device2: .init(id: server.id, name: "Server", position: "U10", airflow: .backToFront))
                ])
            // Under 40 % used; 1706 / 400 > 3; the top zone holds 54.5 %; one conflict; one ≥ 1500.
            #expect(analysis.recommendations.count == 5)
            #expect(
                analysis.recommendations.first
                    == "ℹ️ Cooling capacity is only 31.3% utilized. System is over-provisioned for current load.")
            #expect(analysis.recommendations[1].contains("thermal imbalance"))
            #expect(analysis.recommendations[2].contains("More than 50% of heat is in top zone"))
            #expect(analysis.recommendations[3].contains("Found 1 airflow pattern conflict"))
            #expect(analysis.recommendations[4].contains("1 high-heat device(s)"))
        }
    }

    @Test func thermalAnalysisOfAnEmptyRackAndOfAnUnknownOne() async throws {
        try await APITest.withAPI { api, services in
            let rack = try await PlacementFixture(api, services).rack()
            let empty = try await api.get("/api/racks/\(rack.id)/thermal-analysis").decode(ThermalAnalysis.self)
            #expect(empty.heatDistribution.totalHeatBTUHr == 0 && empty.heatDistribution.deviceCount == 0)
            #expect(empty.coolingEfficiency.coolingCapacityBTUHr == 17_000)

            let unknown = try await api.get("/api/racks/999/thermal-analysis")
            #expect(unknown.status == .notFound)
            #expect(unknown.envelope["code"] as? String == "RESOURCE_NOT_FOUND")
            #expect(try await api.get("/api/racks/x/thermal-analysis").errorFields == ["id"])
        }
    }

    @Test func aCachedThermalAnalysisIsServedWithAFreshTimestamp() async throws {
        let cache = MemoryResultCache()
        let clock = TestClock()
        try await APITest.withAPI(cache: cache, configure: { $0.now = clock.now }) { api, services in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack()
            _ = try await fixture.placed(try await fixture.device(watts: 300), in: rack, at: 2)
            let first = try await api.get("/api/racks/\(rack.id)/thermal-analysis").decode(ThermalAnalysis.self)

            // Changed behind the cache's back (no route, so no invalidation): the cached result stays.
            let unseen = try await fixture.device(watts: 1000)
            _ = try await services.store.createPosition(
                RackPosition(id: nil, rackID: rack.id, deviceID: unseen.id, startU: 30))
            let second = try await api.get("/api/racks/\(rack.id)/thermal-analysis").decode(ThermalAnalysis.self)

            #expect(cache.hits == 1)
            #expect(second.heatDistribution.deviceCount == 1)
            #expect(second.timestamp > first.timestamp)
            var restamped = second
            restamped.timestamp = first.timestamp
            #expect(restamped == first)
        }
    }

    @Test func everyPositionWriteInvalidatesTheThermalAnalysesOfTheRacksItTouches() async throws {
        let cache = MemoryResultCache()
        try await APITest.withAPI(cache: cache) { api, services in
            let fixture = PlacementFixture(api, services)
            let rackA = try await fixture.rack("A", height: 12)
            let rackB = try await fixture.rack("B", height: 12)
            let firewall = try await fixture.device(watts: 300)
            let server = try await fixture.device(watts: 500)
            let firewallPosition = try await fixture.placed(firewall, in: rackA, at: 2)
            // The rack's heat per zone (bottom, middle, top), read twice: the second read must
            // be a cache hit, so the next write has a cached result to invalidate.
            func zones(_ rack: Rack) async throws -> [Double] {
                let uri = "/api/racks/\(rack.id)/thermal-analysis"
                let hitsBefore = cache.hits
                let fresh = try await api.get(uri).decode(ThermalAnalysis.self)
                let cached = try await api.get(uri).decode(ThermalAnalysis.self)
                #expect(cache.hits == hitsBefore + 1)
                #expect(cached.heatDistribution == fresh.heatDistribution)
                return fresh.heatDistribution.zoneHeats
            }
            #expect(try await zones(rackA) == [1023.6, 0, 0])
            #expect(try await zones(rackB) == [0, 0, 0])

            let serverPosition = try await fixture.placed(server, in: rackA, at: 10)
            #expect(try await zones(rackA) == [1023.6, 0, 1706])

            #expect(
                try await api.put("/api/racks/\(rackA.id)/positions/\(serverPosition.id!)", ["start_u": 6]).status
                    == .ok)
            #expect(try await zones(rackA) == [1023.6, 1706, 0])

            let move = try await api.post("/api/devices/\(server.id)/move", ["rack_id": rackB.id, "start_unit": 1])
            #expect(move.status == .ok)
            #expect(try await zones(rackA) == [1023.6, 0, 0])
            #expect(try await zones(rackB) == [1706, 0, 0])

            #expect(
                try await api.delete("/api/racks/\(rackA.id)/positions/\(firewallPosition.id!)").status == .noContent)
            #expect(try await zones(rackA) == [0, 0, 0])
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func optimizingKeepsLockedDevicesAndSavesNothing(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, services in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack(height: 42)
            let elsewhere = try await fixture.rack("Elsewhere")
            let storage = try await fixture.device("Storage", heightU: 4, watts: 800, weightKG: 30)
            let router = try await fixture.device("Router", heightU: 2, watts: 150)
            let patch = try await fixture.device("Patch", heightU: 1, watts: nil)
            let outsider = try await fixture.device("Outsider", heightU: 1, watts: 100)
            _ = try await fixture.placed(storage, in: rack, at: 30)
            // Locked by its stored flag; the storage array by the request.
            _ = try await fixture.placed(router, in: rack, at: 20, locked: true)
            _ = try await fixture.placed(patch, in: rack, at: 40)
            _ = try await fixture.placed(outsider, in: elsewhere, at: 1)

            let response = try await api.post(
                "/api/racks/\(rack.id)/optimize", ["locked_positions": [storage.id]])

            #expect(response.status == .ok)
            let result = try response.decode(OptimizationResult.self)
            let proposed = Dictionary(uniqueKeysWithValues: result.positions.map { ($0.deviceID, $0) })
            #expect(Set(proposed.keys) == [storage.id, router.id, patch.id])
            #expect(proposed[storage.id]?.startU == 30 && proposed[storage.id]?.locked == true)
            #expect(proposed[router.id]?.startU == 20 && proposed[router.id]?.locked == true)
            #expect(proposed[patch.id]?.locked == false)
            #expect(result.positions.allSatisfy { $0.id == nil && $0.rackID == rack.id })
            #expect(result.metadata.totalDevices == 3 && result.metadata.devicesPlaced == 3)
            #expect(result.metadata.weights == .standard)
            #expect(result.score.total > 0 && result.score.total <= 1)
            // Nothing saved.
            #expect(try await fixture.layout(of: rack).map(\.startU) == [20, 30, 40])
        }
    }

    @Test func optimizingWithoutABodyOrWithAnEmptyOneUsesTheDefaults() async throws {
        try await APITest.withAPI { api, services in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack()
            _ = try await fixture.placed(try await fixture.device(), in: rack, at: 5)
            let uri = "/api/racks/\(rack.id)/optimize"

            for response in [
                try await api.post(uri), try await api.post(uri, [:]), try await api.post(uri, raw: " \n"),
            ] {
                #expect(response.status == .ok)
                #expect(try response.decode(OptimizationResult.self).metadata.weights == .standard)
            }
            let custom = try await api.post(
                uri, ["weights": ["cable": 0.1, "weight": 0.2, "thermal": 0.3, "access": 0.4]])
            #expect(
                try custom.decode(OptimizationResult.self).metadata.weights
                    == OptimizationWeights(cable: 0.1, weight: 0.2, thermal: 0.3, access: 0.4))
        }
    }

    @Test func weightsOutOfRangeOrNotSummingToOneAre422() async throws {
        try await APITest.withAPI { api, services in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack()
            _ = try await fixture.placed(try await fixture.device(), in: rack, at: 5)
            let uri = "/api/racks/\(rack.id)/optimize"

            // 0.5 + 0.25 + 0.25 + 0.20 = 1.2.
            let badSum = try await api.post(uri, ["weights": ["cable": 0.5]])
            #expect(badSum.status == .unprocessableContent)
            #expect(badSum.errorFields == ["weights"])
            let outOfRange = try await api.post(uri, ["weights": ["cable": 1.5, "access": -0.1]])
            #expect(outOfRange.errorFields == ["weights.cable", "weights.access"])
            #expect(try await api.post(uri, ["weights": ["cable": "high"]]).errorFields == ["weights.cable"])
            #expect(try await api.post(uri, raw: "[1]").errorFields == ["body"])
            // Within 0.01 of 1 is accepted.
            let nearlyOne = try await api.post(
                uri, ["weights": ["cable": 0.305, "weight": 0.25, "thermal": 0.25, "access": 0.2]])
            #expect(nearlyOne.status == .ok)
            // The body is checked before the rack is looked up.
            #expect(
                try await api.post("/api/racks/999/optimize", ["weights": ["cable": 0.5]]).status
                    == .unprocessableContent)
        }
    }

    @Test func optimizingAnUnknownEmptyOrOverloadedRackFails() async throws {
        try await APITest.withAPI { api, services in
            let fixture = PlacementFixture(api, services)
            let empty = try await fixture.rack("Empty")
            let small = try await fixture.rack("Small", height: 42, fields: ["max_power_watts": 100])
            _ = try await fixture.placed(try await fixture.device(watts: 200), in: small, at: 1)
            let fine = try await fixture.rack("Fine")
            _ = try await fixture.placed(try await fixture.device(), in: fine, at: 1)

            let unknown = try await api.post("/api/racks/999/optimize")
            #expect(unknown.status == .notFound)
            #expect(unknown.detailMessage == "Rack 999 not found")

            let nothing = try await api.post("/api/racks/\(empty.id)/optimize")
            #expect(nothing.status == .badRequest)
            #expect(nothing.detailMessage.contains("no devices"))

            let overloaded = try await api.post("/api/racks/\(small.id)/optimize")
            #expect(overloaded.status == .badRequest)
            #expect(overloaded.detailMessage.contains("Power budget exceeded"))

            // A locked device that is not in the rack can never keep its place.
            let foreignLock = try await api.post("/api/racks/\(fine.id)/optimize", ["locked_positions": [998]])
            #expect(foreignLock.status == .badRequest)
            #expect(foreignLock.detailMessage.contains("ID 998"))
        }
    }

    @Test func optimizationResultsAreCachedPerRequestAndInvalidatedByPlacements() async throws {
        let cache = MemoryResultCache()
        try await APITest.withAPI(cache: cache) { api, services in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack()
            let first = try await fixture.device()
            _ = try await fixture.placed(first, in: rack, at: 1)
            let uri = "/api/racks/\(rack.id)/optimize"
            func devices(_ body: [String: any Sendable]) async throws -> Int {
                try await api.post(uri, body).decode(OptimizationResult.self).metadata.totalDevices
            }

            #expect(try await devices([:]) == 1)
            #expect(try await devices([:]) == 1)
            #expect(cache.hits == 1)
            // Other locked devices are another request: a miss.
            #expect(try await devices(["locked_positions": [first.id]]) == 1)
            #expect(cache.hits == 1)

            _ = try await fixture.placed(try await fixture.device(), in: rack, at: 10)
            #expect(try await devices([:]) == 2)
            #expect(cache.hits == 1)
        }
    }
}
