import Backend
import Foundation
import RackPlanning
import Testing

@Suite("Routes: device types")
struct DeviceTypeRouteTests {
    @Test(arguments: TestDatabases.kinds)
    func createReadUpdateDeleteADeviceType(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, _ in
            let created = try await api.post(
                "/api/device-types", ["name": "Network Switch", "icon": "🔀", "color": "#3366ff", "model_count": 5])
            #expect(created.status == .created)
            let type = try created.decode(DeviceType.self)
            #expect(type.slug == "network-switch" && type.icon == "🔀" && type.modelCount == 0)
            #expect(type.createdAt != nil)

            let read = try await api.get("/api/device-types/\(type.id)")
            #expect(read.status == .ok)
            #expect(try read.decode(DeviceType.self) == type)

            // PUT is partial, and a new name keeps the slug.
            let updated = try await api.put("/api/device-types/\(type.id)", ["name": "Switch", "description": "L2/L3"])
            #expect(updated.status == .ok)
            let after = try updated.decode(DeviceType.self)
            #expect(after.name == "Switch" && after.slug == "network-switch" && after.icon == "🔀")
            #expect(after.description == "L2/L3")

            #expect(try await api.get("/api/device-types").decode([DeviceType].self).map(\.id) == [type.id])
            #expect(try await api.delete("/api/device-types/\(type.id)").status == .noContent)
            let gone = try await api.get("/api/device-types/\(type.id)")
            #expect(gone.status == .notFound)
            #expect(gone.envelope["code"] as? String == "RESOURCE_NOT_FOUND")
        }
    }

    @Test func slugsAreMadeFromNamesWhenLeftOut() {
        #expect(Slug.make(from: "Network Switch") == "network-switch")
        #expect(Slug.make(from: "  PDU / UPS (Rack)  ") == "pdu-ups-rack")
        #expect(Slug.make(from: "Équipement réseau") == "equipement-reseau")
        #expect(Slug.make(from: "../../etc/passwd") == "etc-passwd")
        #expect(Slug.make(from: "日本").isEmpty)
    }

    @Test func aGivenSlugIsKeptAndNullAsksForOne() async throws {
        try await APITest.withAPI { api, _ in
            let given = try await api.createDeviceType("Server", ["slug": "srv"])
            #expect(given.slug == "srv")
            let derived = try await api.createDeviceType("Patch Panel", ["slug": NSNull()])
            #expect(derived.slug == "patch-panel")
        }
    }

    @Test func listsArePaged() async throws {
        try await APITest.withAPI { api, _ in
            for name in ["Switch", "Router", "Server"] { _ = try await api.createDeviceType(name) }
            let page = try await api.get("/api/device-types?skip=1&limit=1")
            #expect(try page.decode([DeviceType].self).map(\.name) == ["Router"])
            #expect(try await api.get("/api/device-types?skip=-1").errorFields == ["skip"])
        }
    }

    @Test func duplicateNamesOrSlugsAre409() async throws {
        try await APITest.withAPI { api, _ in
            _ = try await api.createDeviceType("Switch")
            let sameName = try await api.post("/api/device-types", ["name": "Switch", "slug": "switch-2"])
            #expect(sameName.status == .conflict)
            #expect(sameName.envelope["code"] as? String == "CONFLICT")
            #expect(
                try await api.post("/api/device-types", ["name": "Switches", "slug": "switch"]).status == .conflict)
            let router = try await api.createDeviceType("Router")
            #expect(try await api.put("/api/device-types/\(router.id)", ["name": "Switch"]).status == .conflict)
            #expect(try await api.put("/api/device-types/\(router.id)", ["slug": "switch"]).status == .conflict)
        }
    }

    @Test func invalidBodiesAre422() async throws {
        try await APITest.withAPI { api, _ in
            #expect(try await api.post("/api/device-types", [:]).errorFields == ["name"])
            #expect(
                try await api.post("/api/device-types", ["name": String(repeating: "x", count: 101)]).errorFields == [
                    "name", "slug",
                ])
            #expect(try await api.post("/api/device-types", ["name": "Ok", "slug": ""]).errorFields == ["slug"])
            #expect(try await api.post("/api/device-types", ["name": "***"]).errorFields == ["slug"])
            #expect(try await api.post("/api/device-types", ["name": 5]).errorFields == ["name"])
            #expect(try await api.post("/api/device-types", raw: "[]").errorFields == ["body"])
            let type = try await api.createDeviceType("Switch")
            #expect(try await api.put("/api/device-types/\(type.id)", ["name": ""]).errorFields == ["name"])
        }
    }

    @Test func unknownDeviceTypesAre404() async throws {
        try await APITest.withAPI { api, _ in
            let missing = try await api.get("/api/device-types/42")
            #expect(missing.status == .notFound)
            #expect(missing.object["detail"] as? String == "Device type 42 not found")
            #expect(try await api.put("/api/device-types/42", ["name": "X"]).status == .notFound)
            #expect(try await api.delete("/api/device-types/42").status == .notFound)
            #expect(try await api.delete("/api/device-types/x").errorFields == ["id"])
        }
    }

    @Test func deletingATypeModelsUseIs409() async throws {
        try await APITest.withAPI { api, _ in
            let type = try await api.createDeviceType("Switch")
            let brand = try await api.createBrand("Ubiquiti")
            let model = try await api.createModel(brand: brand, type: type, name: "USW-24")
            #expect(try await api.get("/api/device-types/\(type.id)").decode(DeviceType.self).modelCount == 1)
            let refused = try await api.delete("/api/device-types/\(type.id)")
            #expect(refused.status == .conflict)
            #expect((refused.object["detail"] as? String)?.contains("model") == true)
            #expect(try await api.delete("/api/models/\(model.id)").status == .noContent)
            #expect(try await api.delete("/api/device-types/\(type.id)").status == .noContent)
        }
    }

    @Test func everyWriteInvalidatesTheCatalog() async throws {
        let cache = MemoryResultCache()
        try await APITest.withAPI(cache: cache) { api, _ in
            let type = try await api.createDeviceType("Switch")
            _ = try await api.put("/api/device-types/\(type.id)", ["icon": "🔀"])
            _ = try await api.get("/api/device-types")
            _ = try await api.delete("/api/device-types/\(type.id)")
            _ = try await api.post("/api/device-types", [:])
            #expect(cache.invalidations == [[.catalog], [.catalog], [.catalog]])
        }
    }
}
