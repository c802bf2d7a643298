@testable import Backend
import Foundation
import RackPlanning
import Synchronization
import Testing

/// Two racks and four devices of one 1U specification 300 mm deep (``StoreFixtures``):
/// `a` at U1 and `b` at `bStartU` in `rack`, `far` at U1 in `other`, `loose` unplaced.
///
/// Hand-computed lengths for `a`–`b` with `b` at U5 (`rack-api.md` §7):
/// (4 × 0.04445 + 0.300) × 1.2 = 0.57336 → 0.57 direct, × 1.5 = 0.7167 → 0.72 by cable tray,
/// × 1.8 = 0.86004 → 0.86 in conduit.
struct ConnectionFixture {
    let rack: Rack
    let other: Rack
    let a: Device
    let b: Device
    let far: Device
    let loose: Device

    static func make(_ services: BackendServices, bStartU: Int = 5) async throws -> ConnectionFixture {
        let store = try #require(services.store as? SQLRackStore)
        let rack = try await StoreFixtures.rack(store, name: "Main")
        let other = try await StoreFixtures.rack(store, name: "Other")
        let spec = try await StoreFixtures.specification(store)
        let a = try await StoreFixtures.device(store, specification: spec, name: "a")
        let b = try await StoreFixtures.device(store, specification: spec, name: "b")
        let far = try await StoreFixtures.device(store, specification: spec, name: "far")
        let loose = try await StoreFixtures.device(store, specification: spec, name: "loose")
        for (rackID, device, startU) in [(rack.id, a, 1), (rack.id, b, bStartU), (other.id, far, 1)] {
            _ = try await store.createPosition(RackPosition(id: nil, rackID: rackID, deviceID: device.id, startU: startU))
        }
        return ConnectionFixture(rack: rack, other: other, a: a, b: b, far: far, loose: loose)
    }

    /// A `POST /api/connections` body from `from` to `to` with `extra` fields.
    func link(_ from: Device, _ to: Device, _ extra: [String: any Sendable] = [:]) -> [String: any Sendable] {
        extra.merging(["from_device_id": from.id, "to_device_id": to.id]) { given, _ in given }
    }
}

@Suite("Routes: connections")
struct ConnectionRouteTests {
    @Test(arguments: TestDatabases.kinds)
    func createReadUpdateDeleteWithAutoLength(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, services in
            let fixture = try await ConnectionFixture.make(services)
            let created = try await api.post(
                "/api/connections",
                fixture.link(fixture.a, fixture.b, ["from_port": "eth0", "to_port": "1", "notes": "blue"]))
            #expect(created.status == .created)
            let connection = try created.decode(Connection.self)
            #expect(connection.cableLengthM == 0.57)
            #expect(connection.cableType == .cat6 && connection.routingPath == .direct)
            #expect(connection.notes == "blue" && connection.fromPort == "eth0")
            #expect(connection.fromDevice?.customName == "a" && connection.toDevice?.customName == "b")

            let read = try await api.get("/api/connections/\(connection.id)")
            #expect(read.status == .ok)
            #expect(try read.decode(Connection.self) == connection)

            // A new route without a new length re-estimates; other edits keep the length.
            let tray = try await api.put("/api/connections/\(connection.id)", ["routing_path": "cable_tray"])
            #expect(tray.status == .ok)
            #expect(try tray.decode(Connection.self).cableLengthM == 0.72)
            let renamed = try await api.put("/api/connections/\(connection.id)", ["notes": "red", "id": 999])
            let afterNotes = try renamed.decode(Connection.self)
            #expect(afterNotes.id == connection.id && afterNotes.notes == "red" && afterNotes.cableLengthM == 0.72)
            let measured = try await api.put(
                "/api/connections/\(connection.id)", ["routing_path": "conduit", "cable_length_m": 4])
            #expect(try measured.decode(Connection.self).cableLengthM == 4)
            let reestimated = try await api.put("/api/connections/\(connection.id)", ["cable_length_m": NSNull()])
            #expect(try reestimated.decode(Connection.self).cableLengthM == 0.86)

            #expect(try await api.delete("/api/connections/\(connection.id)").status == .noContent)
            #expect(try await api.get("/api/connections/\(connection.id)").status == .notFound)
            #expect(try await api.delete("/api/connections/\(connection.id)").status == .notFound)
        }
    }

    @Test func aGivenLengthIsKeptAndNoneIsEstimatedAcrossRacksOrForUnplacedEnds() async throws {
        try await APITest.withAPI { api, services in
            let fixture = try await ConnectionFixture.make(services)
            let given = try await api.post(
                "/api/connections", fixture.link(fixture.a, fixture.b, ["cable_length_m": 2.5]))
            #expect(try given.decode(Connection.self).cableLengthM == 2.5)
            let acrossRacks = try await api.post("/api/connections", fixture.link(fixture.a, fixture.far))
            #expect(acrossRacks.status == .created)
            #expect(try acrossRacks.decode(Connection.self).cableLengthM == nil)
            let unplaced = try await api.post("/api/connections", fixture.link(fixture.loose, fixture.b))
            let loose = try unplaced.decode(Connection.self)
            #expect(loose.cableLengthM == nil)
            // Re-routing something that cannot be estimated keeps its (unknown) length.
            let rerouted = try await api.put("/api/connections/\(loose.id)", ["routing_path": "conduit"])
            #expect(try rerouted.decode(Connection.self).cableLengthM == nil)
            // Moving an end into the rack re-estimates for the new ends.
            let moved = try await api.put("/api/connections/\(loose.id)", ["from_device_id": fixture.a.id])
            #expect(try moved.decode(Connection.self).cableLengthM == 0.86)
        }
    }

    @Test func listFiltersByRackAndEndsAndIsPaged() async throws {
        try await APITest.withAPI { api, services in
            let fixture = try await ConnectionFixture.make(services)
            var ids: [Int] = []
            for (from, to) in [(fixture.a, fixture.b), (fixture.far, fixture.a), (fixture.loose, fixture.far)] {
                ids.append(try await api.post("/api/connections", fixture.link(from, to)).decode(Connection.self).id)
            }
            func listed(_ query: String) async throws -> [Int] {
                try await api.get("/api/connections\(query)").decode([Connection].self).map(\.id)
            }
            #expect(try await listed("") == ids)
            #expect(try await listed("?rack_id=\(fixture.rack.id)") == [ids[0], ids[1]])
            #expect(try await listed("?rack_id=\(fixture.other.id)") == [ids[1], ids[2]])
            #expect(try await listed("?from_device_id=\(fixture.far.id)") == [ids[1]])
            #expect(try await listed("?to_device_id=\(fixture.far.id)") == [ids[2]])
            #expect(try await listed("?rack_id=\(fixture.rack.id)&to_device_id=\(fixture.a.id)") == [ids[1]])
            #expect(try await listed("?skip=1&limit=1") == [ids[1]])
            #expect(try await api.get("/api/connections?rack_id=x").errorFields == ["rack_id"])
            #expect(try await api.get("/api/connections?limit=0").errorFields == ["limit"])
        }
    }

    @Test func createNamesEachMissingDeviceAndRefusesSelfLinks() async throws {
        try await APITest.withAPI { api, services in
            let fixture = try await ConnectionFixture.make(services)
            let missingTo = try await api.post("/api/connections", ["from_device_id": fixture.a.id, "to_device_id": 998])
            #expect(missingTo.status == .notFound)
            #expect(missingTo.object["detail"] as? String == "To device 998 not found")
            let missingBoth = try await api.post("/api/connections", ["from_device_id": 997, "to_device_id": 998])
            #expect(missingBoth.status == .notFound)
            #expect(missingBoth.envelope["code"] as? String == "RESOURCE_NOT_FOUND")
            #expect(missingBoth.object["detail"] as? String == "From device 997 and to device 998 not found")

            let selfLink = try await api.post("/api/connections", fixture.link(fixture.a, fixture.a))
            #expect(selfLink.status == .badRequest)
            #expect(selfLink.envelope["code"] as? String == "BAD_REQUEST")
            #expect(try await api.get("/api/connections").decode([Connection].self).isEmpty)
        }
    }

    @Test func badFieldsGet422() async throws {
        try await APITest.withAPI { api, services in
            let fixture = try await ConnectionFixture.make(services)
            func fields(_ extra: [String: any Sendable]) async throws -> [String] {
                let response = try await api.post("/api/connections", fixture.link(fixture.a, fixture.b, extra))
                #expect(response.status == .unprocessableContent)
                return response.errorFields
            }
            #expect(try await fields(["cable_type": "Cat8"]) == ["cable_type"])
            #expect(try await fields(["routing_path": "airborne"]) == ["routing_path"])
            #expect(try await fields(["cable_length_m": -1]) == ["cable_length_m"])
            #expect(try await fields(["from_device_id": "a"]) == ["from_device_id"])
            let missing = try await api.post("/api/connections", ["to_device_id": fixture.b.id])
            #expect(missing.status == .unprocessableContent && missing.errorFields == ["from_device_id"])
            #expect(try await api.post("/api/connections", raw: "[]").errorFields == ["body"])
            #expect(try await api.get("/api/connections/abc").errorFields == ["id"])
        }
    }

    @Test func updateChecksTheConnectionTheEndsAndTheFields() async throws {
        try await APITest.withAPI { api, services in
            let fixture = try await ConnectionFixture.make(services)
            let connection = try await api.post("/api/connections", fixture.link(fixture.a, fixture.b))
                .decode(Connection.self)
            let path = "/api/connections/\(connection.id)"
            #expect(try await api.put("/api/connections/999", ["notes": "x"]).status == .notFound)
            let missing = try await api.put(path, ["to_device_id": 998])
            #expect(missing.status == .notFound && missing.object["detail"] as? String == "To device 998 not found")
            #expect(try await api.put(path, ["to_device_id": fixture.a.id]).status == .badRequest)
            let bad = try await api.put(path, ["cable_type": "Cat9"])
            #expect(bad.status == .unprocessableContent && bad.errorFields == ["cable_type"])
            #expect(try await api.put(path, ["cable_length_m": -0.5]).errorFields == ["cable_length_m"])
            // Nothing of the refused updates was saved.
            #expect(try await api.get(path).decode(Connection.self) == connection)
        }
    }

    @Test func writesInvalidateTheRacksOfBothEnds() async throws {
        let cache = MemoryResultCache()
        try await APITest.withAPI(cache: cache) { api, services in
            let fixture = try await ConnectionFixture.make(services)
            let (rack, other) = (fixture.rack.id, fixture.other.id)
            let connection = try await api.post("/api/connections", fixture.link(fixture.a, fixture.far))
                .decode(Connection.self)
            #expect(Set(cache.invalidations.last ?? []) == [.rack(rack), .rack(other)])
            // Moving the far end off `other` invalidates both the old and the new racks.
            _ = try await api.put("/api/connections/\(connection.id)", ["to_device_id": fixture.b.id])
            #expect(Set(cache.invalidations.last ?? []) == [.rack(rack), .rack(other)])
            _ = try await api.delete("/api/connections/\(connection.id)")
            #expect(cache.invalidations.last == [.rack(rack)])
            #expect(cache.invalidations.count == 3)
            // A connection between devices in no rack, and a refused write, invalidate nothing.
            let spare = try await api.post("/api/connections", fixture.link(fixture.loose, fixture.loose))
            #expect(spare.status == .badRequest)
            let store = try #require(services.store as? SQLRackStore)
            let spec = try await StoreFixtures.specification(store, model: "Spare")
            let desk = try await StoreFixtures.device(store, specification: spec, name: "desk")
            let unracked = try await api.post("/api/connections", fixture.link(fixture.loose, desk))
                .decode(Connection.self)
            _ = try await api.delete("/api/connections/\(unracked.id)")
            #expect(cache.invalidations.count == 3)
        }
    }

    @Test func validateFlagsATightBendAndAnOverLengthCat6() async throws {
        try await APITest.withAPI { api, services in
            let fixture = try await ConnectionFixture.make(services, bStartU: 3)
            let jumper = try await api.post("/api/connections", fixture.link(fixture.a, fixture.b))
                .decode(Connection.self)
            let bend = try await api.get("/api/connections/\(jumper.id)/validate")
            #expect(bend.status == .ok)
            let bendCheck = try bend.decode(CableCheck.self)
            #expect(bendCheck.valid && bendCheck.lengthM == jumper.cableLengthM)
            #expect(bendCheck.issues.map(\.kind) == [.tightBend])
            #expect(bendCheck.issues.map(\.severity) == [.warning])

            let long = try await api.post(
                "/api/connections", fixture.link(fixture.a, fixture.far, ["cable_length_m": 120]))
                .decode(Connection.self)
            let longCheck = try await api.get("/api/connections/\(long.id)/validate").decode(CableCheck.self)
            #expect(!longCheck.valid && longCheck.lengthM == 120)
            #expect(longCheck.issues.map(\.kind) == [.exceedsMaximumLength, .cat6TenGigabitReach])

            let reach = try await api.post(
                "/api/connections", fixture.link(fixture.b, fixture.far, ["cable_length_m": 60]))
                .decode(Connection.self)
            let reachCheck = try await api.get("/api/connections/\(reach.id)/validate").decode(CableCheck.self)
            #expect(reachCheck.valid && reachCheck.issues.map(\.kind) == [.cat6TenGigabitReach])

            #expect(try await api.get("/api/connections/999/validate").status == .notFound)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func validateBulkSummarisesBySeverity(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, services in
            let fixture = try await ConnectionFixture.make(services, bStartU: 2)
            let bend = try await api.post("/api/connections", fixture.link(fixture.a, fixture.b)).decode(Connection.self)
            let long = try await api.post(
                "/api/connections", fixture.link(fixture.far, fixture.a, ["cable_length_m": 120]))
                .decode(Connection.self)
            let elsewhere = try await api.post(
                "/api/connections", fixture.link(fixture.loose, fixture.far, ["cable_type": "Fiber-MM"]))
                .decode(Connection.self)

            let rackWide = try await api.post("/api/connections/validate-bulk?rack_id=\(fixture.rack.id)")
            #expect(rackWide.status == .ok)
            let scoped = try rackWide.decode(BulkCableValidation.self)
            #expect(scoped.rackID == fixture.rack.id)
            #expect(scoped.results.map(\.connectionID) == [bend.id, long.id])
            #expect(
                scoped.summary
                    == .init(
                        totalConnections: 2, valid: 1, invalid: 1, withIssues: 2,
                        issuesBySeverity: ["warning": 2, "error": 1]))

            let everything = try await api.post("/api/connections/validate-bulk").decode(BulkCableValidation.self)
            #expect(everything.rackID == nil)
            #expect(everything.results.map(\.connectionID) == [bend.id, long.id, elsewhere.id])
            #expect(everything.summary.totalConnections == 3 && everything.summary.valid == 2)

            let empty = try await api.post("/api/connections/validate-bulk?rack_id=\(fixture.other.id)&x=1")
            #expect(try empty.decode(BulkCableValidation.self).summary.issuesBySeverity["error"] == 1)
            #expect(try await api.post("/api/connections/validate-bulk?rack_id=999").status == .notFound)
            #expect(try await api.post("/api/connections/validate-bulk?rack_id=x").errorFields == ["rack_id"])
        }
    }

    @Test func serviceLoopAddsSlackAtEachRackMountedEnd() async throws {
        try await APITest.withAPI { api, services in
            let fixture = try await ConnectionFixture.make(services)
            let inRack = try await api.post("/api/connections", fixture.link(fixture.a, fixture.b)).decode(Connection.self)
            let response = try await api.get("/api/connections/\(inRack.id)/service-loop")
            #expect(response.status == .ok)
            let loop = try response.decode(ServiceLoop.self)
            // 0.57 routed + 2 × 0.3 = 1.17 → the 1.5 m stock length.
            #expect(loop.lengthSource == .recorded && loop.routedLengthM == 0.57)
            #expect(loop.rackMountedEnds == 2 && loop.serviceLoopM == 0.6)
            #expect(loop.totalLengthM == 1.17 && loop.purchaseLengthM == 1.5)

            let toDesk = try await api.post(
                "/api/connections", fixture.link(fixture.loose, fixture.far, ["cable_length_m": 4]))
                .decode(Connection.self)
            let desk = try await api.get("/api/connections/\(toDesk.id)/service-loop").decode(ServiceLoop.self)
            #expect(desk.rackMountedEnds == 1 && desk.totalLengthM == 4.3 && desk.purchaseLengthM == 5)

            let unknown = try await api.post("/api/connections", fixture.link(fixture.a, fixture.far)).decode(Connection.self)
            let unknownLoop = try await api.get("/api/connections/\(unknown.id)/service-loop")
            #expect(unknownLoop.object["length_source"] as? String == "unknown")
            #expect(unknownLoop.object["purchase_length_m"] is NSNull)

            #expect(try await api.get("/api/connections/999/service-loop").status == .notFound)
        }
    }
}
