@testable import Backend
import Foundation
import RackPlanning
import Testing

@Suite("Routes: rack bill of materials")
struct BillOfMaterialsRouteTests {
    @Test(arguments: TestDatabases.kinds)
    func summarisesTheCablesTouchingTheRackByTypeAndRoundedUpLength(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, services in
            let fixture = try await ConnectionFixture.make(services)
            func connect(_ from: Device, _ to: Device, _ extra: [String: any Sendable] = [:]) async throws -> Int {
                try await api.post("/api/connections", fixture.link(from, to, extra)).decode(Connection.self).id
            }
            let jumper = try await connect(fixture.a, fixture.b)  // auto 0.57 m → "Cat6 1m"
            let uplink = try await connect(fixture.b, fixture.far, ["cable_type": "Fiber-MM", "cable_length_m": 2.3])
            let patch = try await connect(fixture.far, fixture.a, ["cable_length_m": 1.44])
            let desk = try await connect(fixture.loose, fixture.b)  // unplaced end: length unknown
            _ = try await connect(fixture.loose, fixture.far)  // not touching the rack

            let response = try await api.get("/api/racks/\(fixture.rack.id)/bom")
            #expect(response.status == .ok)
            let bom = try response.decode(BillOfMaterials.self)
            #expect(bom.cables.map(\.connectionID) == [jumper, uplink, patch, desk])
            #expect(bom.cables.map(\.lengthM) == [0.57, 2.3, 1.44, nil])
            #expect(bom.cables[0].fromDevice == "a" && bom.cables[0].toDevice == "b")
            #expect(
                bom.cableSummary == ["Cat6 1m": 1, "Fiber-MM 3m": 1, "Cat6 2m": 1, "Cat6 unknown length": 1])
            #expect(bom.totalCables == 4)
            #expect(response.object["total_cost"] is NSNull)
        }
    }

    @Test func anEmptyRackHasAnEmptyBillAndAnUnknownRackIsNotFound() async throws {
        try await APITest.withAPI { api, services in
            let fixture = try await ConnectionFixture.make(services)
            let empty = try await api.get("/api/racks/\(fixture.other.id)/bom").decode(BillOfMaterials.self)
            #expect(empty.cables.isEmpty && empty.cableSummary.isEmpty && empty.totalCables == 0)
            let unknown = try await api.get("/api/racks/999/bom")
            #expect(unknown.status == .notFound)
            #expect(unknown.envelope["code"] as? String == "RESOURCE_NOT_FOUND")
            #expect(try await api.get("/api/racks/abc/bom").errorFields == ["id"])
        }
    }
}
