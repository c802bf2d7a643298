import Backend
import Foundation
import RackPlanning
import Testing

@Suite("Routes: catalog models")
struct ModelRouteTests {
    /// A device type and two brands to hang models on.
    private struct Catalog {
        var switches: DeviceType
        var servers: DeviceType
        var ubiquiti: Brand
        var dell: Brand

        static func make(_ api: APIClient) async throws -> Catalog {
            Catalog(
                switches: try await api.createDeviceType("Switch", ["icon": "🔀", "color": "#00f"]),
                servers: try await api.createDeviceType("Server"),
                ubiquiti: try await api.createBrand("Ubiquiti"), dell: try await api.createBrand("Dell"))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func createReadUpdateDeleteAModel(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, _ in
            let catalog = try await Catalog.make(api)
            let created = try await api.post(
                "/api/models",
                [
                    "brand_id": catalog.ubiquiti.id, "device_type_id": catalog.switches.id, "name": "USW-Pro-24",
                    "height_u": 1, "power_watts": 45, "airflow_pattern": "side_to_side",
                    "typical_ports": ["rj45": 24, "sfp+": 2], "device_count": 7, "brand": ["id": 99],
                ])
            #expect(created.status == .created)
            let model = try created.decode(CatalogModel.self)
            #expect(model.name == "USW-Pro-24" && model.heightU == 1 && model.typicalPorts?["sfp+"] == 2)
            // No derived heat output for catalog models, unlike specifications.
            #expect(model.heatOutputBTU == nil && model.deviceCount == 0)
            #expect(model.brand == .init(id: catalog.ubiquiti.id, name: "Ubiquiti", slug: "ubiquiti"))
            #expect(model.deviceType?.icon == "🔀" && model.deviceType?.slug == "switch")

            #expect(try await api.get("/api/models/\(model.id)").decode(CatalogModel.self) == model)

            let updated = try await api.put(
                "/api/models/\(model.id)", ["variant": "PoE", "device_type_id": catalog.servers.id, "brand": NSNull()])
            #expect(updated.status == .ok)
            let after = try updated.decode(CatalogModel.self)
            #expect(after.variant == "PoE" && after.deviceType?.id == catalog.servers.id && after.powerWatts == 45)
            #expect(after.brand?.id == catalog.ubiquiti.id)

            #expect(try await api.delete("/api/models/\(model.id)").status == .noContent)
            #expect(try await api.get("/api/models/\(model.id)").status == .notFound)
        }
    }

    @Test func listFiltersByBrandTypeAndSearch() async throws {
        try await APITest.withAPI { api, _ in
            let catalog = try await Catalog.make(api)
            let usw = try await api.createModel(brand: catalog.ubiquiti, type: catalog.switches, name: "USW-24")
            let udm = try await api.createModel(brand: catalog.ubiquiti, type: catalog.servers, name: "UDM Pro")
            let r740 = try await api.createModel(brand: catalog.dell, type: catalog.servers, name: "PowerEdge R740")

            func ids(_ query: String) async throws -> [Int] {
                try await api.get("/api/models\(query)").decode([CatalogModel].self).map(\.id)
            }
            #expect(try await ids("") == [usw.id, udm.id, r740.id])
            #expect(try await ids("?brand_id=\(catalog.ubiquiti.id)") == [usw.id, udm.id])
            #expect(try await ids("?device_type_id=\(catalog.servers.id)") == [udm.id, r740.id])
            #expect(try await ids("?brand_id=\(catalog.ubiquiti.id)&device_type_id=\(catalog.servers.id)") == [udm.id])
            #expect(try await ids("?search=pro") == [udm.id])
            #expect(try await ids("?skip=2&limit=5") == [r740.id])
            #expect(try await api.get("/api/models?brand_id=x").errorFields == ["brand_id"])
            #expect(try await api.get("/api/models?limit=0").errorFields == ["limit"])
        }
    }

    @Test func duplicatesAre409AndVariantsAreDistinct() async throws {
        try await APITest.withAPI { api, _ in
            let catalog = try await Catalog.make(api)
            _ = try await api.createModel(brand: catalog.ubiquiti, type: catalog.switches, name: "USW-24")
            let body: [String: any Sendable] = [
                "brand_id": catalog.ubiquiti.id, "device_type_id": catalog.switches.id, "name": "USW-24",
            ]
            let duplicate = try await api.post("/api/models", body)
            #expect(duplicate.status == .conflict)
            #expect(duplicate.envelope["code"] as? String == "CONFLICT")
            // Another variant, or the same name at another brand, is a different model.
            let poe = try await api.createModel(
                brand: catalog.ubiquiti, type: catalog.switches, name: "USW-24", ["variant": "PoE"])
            _ = try await api.createModel(brand: catalog.dell, type: catalog.switches, name: "USW-24")
            #expect(
                try await api.post("/api/models", body.merging(["variant": "PoE"]) { _, new in new }).status
                    == .conflict)
            // An update into an existing identity clashes too.
            #expect(try await api.put("/api/models/\(poe.id)", ["variant": NSNull()]).status == .conflict)
        }
    }

    @Test func unknownBrandOrDeviceTypeIs404() async throws {
        try await APITest.withAPI { api, _ in
            let catalog = try await Catalog.make(api)
            let noBrand = try await api.post(
                "/api/models", ["brand_id": 999, "device_type_id": catalog.switches.id, "name": "X"])
            #expect(noBrand.status == .notFound)
            #expect(noBrand.object["detail"] as? String == "Brand 999 not found")
            let noType = try await api.post(
                "/api/models", ["brand_id": catalog.dell.id, "device_type_id": 998, "name": "X"])
            #expect(noType.status == .notFound)
            #expect(noType.object["detail"] as? String == "Device type 998 not found")

            let model = try await api.createModel(brand: catalog.dell, type: catalog.servers, name: "R740")
            #expect(try await api.put("/api/models/\(model.id)", ["brand_id": 999]).status == .notFound)
            #expect(try await api.get("/api/models/999").status == .notFound)
            #expect(try await api.put("/api/models/999", ["name": "X"]).status == .notFound)
            #expect(try await api.delete("/api/models/999").status == .notFound)
        }
    }

    @Test func invalidBodiesAre422() async throws {
        try await APITest.withAPI { api, _ in
            let catalog = try await Catalog.make(api)
            #expect(Set(try await api.post("/api/models", [:]).errorFields) == ["brand_id", "device_type_id", "name"])
            let base: [String: any Sendable] = [
                "brand_id": catalog.dell.id, "device_type_id": catalog.servers.id, "name": "R740",
            ]
            func fields(_ extra: [String: any Sendable]) async throws -> [String] {
                try await api.post("/api/models", base.merging(extra) { _, new in new }).errorFields
            }
            #expect(try await fields(["height_u": 51, "weight_kg": -1]) == ["height_u", "weight_kg"])
            #expect(try await fields(["name": ""]) == ["name"])
            #expect(try await fields(["brand_id": "dell"]) == ["brand_id"])
            let model = try await api.createModel(brand: catalog.dell, type: catalog.servers, name: "R740")
            #expect(
                try await api.put("/api/models/\(model.id)", ["max_operating_temp_c": 101]).errorFields == [
                    "max_operating_temp_c"
                ])
        }
    }

    @Test func deletingAModelDevicesUseIs409() async throws {
        try await APITest.withAPI { api, services in
            let catalog = try await Catalog.make(api)
            let model = try await api.createModel(brand: catalog.dell, type: catalog.servers, name: "R740")
            let device = try await services.store.createDevice(Device(id: 0, customName: "db1", modelID: model.id))
            #expect(try await api.get("/api/models/\(model.id)").decode(CatalogModel.self).deviceCount == 1)
            let refused = try await api.delete("/api/models/\(model.id)")
            #expect(refused.status == .conflict)
            #expect((refused.object["detail"] as? String)?.contains("device") == true)
            try await services.store.deleteDevice(id: device.id)
            #expect(try await api.delete("/api/models/\(model.id)").status == .noContent)
        }
    }

    @Test func searchMatchesNamesAndAnswers404WhenNothingDoes() async throws {
        try await APITest.withAPI { api, _ in
            let catalog = try await Catalog.make(api)
            for index in 1...55 {
                _ = try await api.createModel(brand: catalog.dell, type: catalog.servers, name: "PowerEdge R\(index)")
            }
            let usw = try await api.createModel(brand: catalog.ubiquiti, type: catalog.switches, name: "USW-24")
            let found = try await api.get("/api/models/search?q=usw")
            #expect(found.status == .ok)
            #expect(try found.decode([CatalogModel].self).map(\.id) == [usw.id])
            // At most 50 results.
            #expect(try await api.get("/api/models/search?q=poweredge").decode([CatalogModel].self).count == 50)

            let none = try await api.get("/api/models/search?q=nothing")
            #expect(none.status == .notFound)
            #expect(none.object["detail"] as? String == "No models found matching 'nothing'")
            #expect(try await api.get("/api/models/search").errorFields == ["q"])
            #expect(try await api.get("/api/models/search?q=").errorFields == ["q"])
            #expect(try await api.get("/api/models/search?q=%20%20").errorFields == ["q"])
        }
    }

    @Test func fetchReturnsTheStoredModelAndExplainsAMiss() async throws {
        try await APITest.withAPI { api, _ in
            let catalog = try await Catalog.make(api)
            _ = try await api.createBrand("Ubiquiti Labs")
            let usw = try await api.createModel(brand: catalog.ubiquiti, type: catalog.switches, name: "USW-24")
            _ = try await api.createModel(brand: catalog.ubiquiti, type: catalog.switches, name: "USW-24-PoE")

            let found = try await api.post("/api/models/fetch", ["brand": " ubiquiti ", "model": "usw-24"])
            #expect(found.status == .ok)
            #expect(try found.decode(CatalogModel.self).id == usw.id)

            let noModel = try await api.post("/api/models/fetch", ["brand": "Ubiquiti", "model": "USW-48"])
            #expect(noModel.status == .notFound)
            let detail = noModel.object["detail"] as? String ?? ""
            #expect(detail.contains("does not fetch") && detail.contains("POST /api/models"))
            let noBrand = try await api.post("/api/models/fetch", ["brand": "Ubiq", "model": "USW-24"])
            #expect(noBrand.status == .notFound)
            #expect((noBrand.object["detail"] as? String)?.contains("POST /api/brands") == true)

            #expect(try await api.post("/api/models/fetch", ["brand": "Ubiquiti"]).errorFields == ["model"])
            #expect(try await api.post("/api/models/fetch", ["brand": "  ", "model": "x"]).errorFields == ["brand"])
        }
    }

    @Test func everyWriteInvalidatesTheCatalog() async throws {
        let cache = MemoryResultCache()
        try await APITest.withAPI(cache: cache) { api, _ in
            let catalog = try await Catalog.make(api)
            let model = try await api.createModel(brand: catalog.dell, type: catalog.servers, name: "R740")
            _ = try await api.put("/api/models/\(model.id)", ["variant": "XD"])
            _ = try await api.get("/api/models/\(model.id)")
            _ = try await api.post("/api/models/fetch", ["brand": "Dell", "model": "R740"])
            _ = try await api.delete("/api/models/\(model.id)")
            // Two types, two brands, then the model's create, update and delete.
            #expect(cache.invalidations == Array(repeating: [.catalog], count: 7))
        }
    }
}
