import Backend
import Foundation
import RackPlanning
import Testing

@Suite("Routes: racks")
struct RackRouteTests {
    @Test(arguments: TestDatabases.kinds)
    func createReadUpdateDeleteARack(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, _ in
            let created = try await api.post("/api/racks", ["name": "Lab", "total_height_u": 24])
            #expect(created.status == .created)
            let rack = try created.decode(Rack.self)
            #expect(rack.name == "Lab" && rack.totalHeightU == 24 && rack.depthMM == 700)
            #expect(rack.widthInches == .nineteenInch)

            let read = try await api.get("/api/racks/\(rack.id)")
            #expect(read.status == .ok)
            #expect(try read.decode(Rack.self).name == "Lab")

            // PUT is partial: only the given fields change.
            let updated = try await api.put("/api/racks/\(rack.id)", ["location": "Garage", "id": 999])
            #expect(updated.status == .ok)
            let after = try updated.decode(Rack.self)
            #expect(after.id == rack.id && after.location == "Garage" && after.totalHeightU == 24)

            let list = try await api.get("/api/racks")
            #expect(try list.decode([Rack].self).map(\.id) == [rack.id])

            #expect(try await api.delete("/api/racks/\(rack.id)").status == .noContent)
            let gone = try await api.get("/api/racks/\(rack.id)")
            #expect(gone.status == .notFound)
            #expect(gone.envelope["code"] as? String == "RESOURCE_NOT_FOUND")
            #expect(gone.envelope["request_id"] as? String == gone.headers[.init("X-Request-ID")!])
        }
    }

    @Test func invalidFieldsGet422ListingEachField() async throws {
        try await APITest.withAPI { api, _ in
            let response = try await api.post(
                "/api/racks", ["name": "", "total_height_u": 0, "width_inches": "20\"", "depth_mm": 100])
            #expect(response.status == .unprocessableContent)
            #expect(response.envelope["code"] as? String == "VALIDATION_ERROR")
            // The invalid enum value does not hide the other fields at fault.
            #expect(Set(response.errorFields) == ["width_inches", "name", "total_height_u", "depth_mm"])

            let ranges = try await api.post("/api/racks", ["name": "", "total_height_u": 0, "depth_mm": 100])
            #expect(ranges.status == .unprocessableContent)
            #expect(Set(ranges.errorFields) == ["name", "total_height_u", "depth_mm"])

            let missing = try await api.post("/api/racks", [:])
            #expect(missing.errorFields == ["name"])
            #expect(try await api.post("/api/racks", raw: "{not json").errorFields == ["body"])
            #expect(try await api.post("/api/racks", raw: "[1,2]").errorFields == ["body"])
            #expect(
                try await api.post("/api/racks", ["name": "x", "total_height_u": "tall"]).errorFields == [
                    "total_height_u"
                ])
            // Neither database keeps text past a NUL faithfully: refused, not truncated.
            #expect(try await api.post("/api/racks", raw: #"{"name": "a\u0000b"}"#).errorFields == ["name"])
        }
    }

    @Test func listsArePagedWithValidatedParameters() async throws {
        try await APITest.withAPI { api, _ in
            for index in 1...3 { _ = try await api.post("/api/racks", ["name": "R\(index)"]) }
            let page = try await api.get("/api/racks?skip=1&limit=1")
            #expect(try page.decode([Rack].self).map(\.name) == ["R2"])
            #expect(try await api.get("/api/racks?limit=0").errorFields == ["limit"])
            #expect(try await api.get("/api/racks?limit=1001").errorFields == ["limit"])
            #expect(try await api.get("/api/racks?skip=-1").errorFields == ["skip"])
            #expect(try await api.get("/api/racks?skip=x").errorFields == ["skip"])
            #expect(try await api.get("/api/racks/abc").errorFields == ["id"])
        }
    }

    @Test func layoutOfAnEmptyRackAndOfAnUnknownOne() async throws {
        try await APITest.withAPI { api, _ in
            let rack = try await api.post("/api/racks", ["name": "Empty"]).decode(Rack.self)
            let layout = try await api.get("/api/racks/\(rack.id)/layout")
            #expect(layout.status == .ok)
            #expect(layout.object["utilization_percent"] as? Double == 0)
            #expect((layout.object["positions"] as? [Any])?.isEmpty == true)
            #expect(try await api.get("/api/racks/999/layout").status == .notFound)
        }
    }

    @Test func unknownRoutesAndErrorsShareTheEnvelope() async throws {
        try await APITest.withAPI { api, _ in
            let response = try await api.get("/api/nothing-here")
            #expect(response.status == .notFound)
            #expect(response.envelope["code"] as? String == "RESOURCE_NOT_FOUND")
            #expect(response.object["detail"] as? String != nil)
            let kept = try await api.request(.get, "/api/racks/1", headers: [.init("X-Request-ID")!: "edge-abc.123"])
            #expect(kept.headers[.init("X-Request-ID")!] == "edge-abc.123")
            #expect(kept.envelope["request_id"] as? String == "edge-abc.123")
            let replaced = try await api.request(.get, "/api/racks", headers: [.init("X-Request-ID")!: "bad id!"])
            #expect(replaced.headers[.init("X-Request-ID")!] != "bad id!")
        }
    }

    @Test func writesNeedATokenWhenTokensAreConfigured() async throws {
        try await APITest.withAPI(tokens: ["s3cret", APITokens.digestEntry(for: "other")]) { api, _ in
            let anonymous = try await api.post("/api/racks", ["name": "A"])
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.headers[.wwwAuthenticate] != nil)
            #expect(try await api.authorized("wrong").post("/api/racks", ["name": "A"]).status == .unauthorized)
            #expect(try await api.authorized("s3cret").post("/api/racks", ["name": "A"]).status == .created)
            #expect(try await api.authorized("other").post("/api/racks", ["name": "B"]).status == .created)
            // Reads stay open.
            #expect(try await api.get("/api/racks").status == .ok)
        }
    }
}
