import Backend
import Foundation
import RackPlanning
import Testing

@Suite("Routes: brands")
struct BrandRouteTests {
    @Test(arguments: TestDatabases.kinds)
    func createReadUpdateDeleteABrand(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, _ in
            let created = try await api.post(
                "/api/brands", ["name": "Ubiquiti Networks", "website": "https://ui.com", "founded_year": 2005])
            #expect(created.status == .created)
            let brand = try created.decode(Brand.self)
            #expect(brand.slug == "ubiquiti-networks" && brand.website == "https://ui.com" && brand.modelCount == 0)

            let read = try await api.get("/api/brands/\(brand.id)")
            #expect(read.status == .ok)
            #expect(try read.decode(Brand.self).name == "Ubiquiti Networks")

            // PUT is partial; logo_url and model_count are not the body's to set.
            let updated = try await api.put(
                "/api/brands/\(brand.id)",
                ["headquarters": "New York", "logo_url": "/uploads/brand_logos/x.png", "model_count": 9])
            #expect(updated.status == .ok)
            let after = try updated.decode(Brand.self)
            #expect(after.headquarters == "New York" && after.website == "https://ui.com")
            #expect(after.logoURL == nil && after.modelCount == 0 && after.slug == "ubiquiti-networks")

            #expect(try await api.get("/api/brands").decode([Brand].self).map(\.id) == [brand.id])
            #expect(try await api.delete("/api/brands/\(brand.id)").status == .noContent)
            #expect(try await api.get("/api/brands/\(brand.id)").status == .notFound)
        }
    }

    @Test func aGivenSlugIsKeptAndLogoURLIsIgnoredOnCreate() async throws {
        try await APITest.withAPI { api, _ in
            let response = try await api.post(
                "/api/brands", ["name": "Cisco Systems", "slug": "cisco", "logo_url": "/uploads/brand_logos/a.png"])
            let brand = try response.decode(Brand.self)
            #expect(brand.slug == "cisco" && brand.logoURL == nil)
        }
    }

    @Test func duplicateNamesOrSlugsAre409() async throws {
        try await APITest.withAPI { api, _ in
            let first = try await api.createBrand("Netgear")
            let sameName = try await api.post("/api/brands", ["name": "Netgear", "slug": "netgear-2"])
            #expect(sameName.status == .conflict)
            #expect(sameName.envelope["code"] as? String == "CONFLICT")
            #expect(try await api.post("/api/brands", ["name": "NETGEAR Inc", "slug": "netgear"]).status == .conflict)
            // A derived slug can clash too.
            #expect(try await api.post("/api/brands", ["name": "netgear!"]).status == .conflict)

            let other = try await api.createBrand("TP-Link")
            #expect(try await api.put("/api/brands/\(other.id)", ["name": "Netgear"]).status == .conflict)
            #expect(try await api.put("/api/brands/\(other.id)", ["slug": first.slug]).status == .conflict)
        }
    }

    @Test func invalidBodiesAre422() async throws {
        try await APITest.withAPI { api, _ in
            #expect(try await api.post("/api/brands", [:]).errorFields == ["name"])
            #expect(try await api.post("/api/brands", ["name": ""]).errorFields == ["name", "slug"])
            #expect(
                try await api.post("/api/brands", ["name": "Acme", "founded_year": 1700]).errorFields == [
                    "founded_year"
                ])
            #expect(try await api.post("/api/brands", ["name": "Acme", "slug": ""]).errorFields == ["slug"])
            #expect(
                try await api.post("/api/brands", ["name": String(repeating: "a", count: 201)]).errorFields == [
                    "name", "slug",
                ])
            // Nothing a slug can be made of: the client must choose one.
            #expect(try await api.post("/api/brands", ["name": "日本"]).errorFields == ["slug"])
            #expect(try await api.post("/api/brands", ["name": "日本", "slug": "nihon"]).status == .created)

            let brand = try await api.createBrand("Acme")
            #expect(
                try await api.put("/api/brands/\(brand.id)", ["founded_year": 2101]).errorFields == ["founded_year"])
            #expect(try await api.put("/api/brands/\(brand.id)", ["slug": NSNull()]).errorFields == ["slug"])
        }
    }

    @Test func unknownBrandsAre404() async throws {
        try await APITest.withAPI { api, _ in
            let missing = try await api.get("/api/brands/999")
            #expect(missing.status == .notFound)
            #expect(missing.object["detail"] as? String == "Brand 999 not found")
            #expect(try await api.put("/api/brands/999", ["name": "X"]).status == .notFound)
            #expect(try await api.delete("/api/brands/999").status == .notFound)
            #expect(try await api.get("/api/brands/999/models").status == .notFound)
            #expect(try await api.get("/api/brands/abc").errorFields == ["id"])
        }
    }

    @Test func listFiltersBySearchAndDeviceTypeIdOrSlug() async throws {
        try await APITest.withAPI { api, _ in
            let switches = try await api.createDeviceType("Switch")
            let servers = try await api.createDeviceType("Server")
            let ubiquiti = try await api.createBrand("Ubiquiti")
            let dell = try await api.createBrand("Dell")
            _ = try await api.createBrand("Unused")
            _ = try await api.createModel(brand: ubiquiti, type: switches, name: "USW-24")
            _ = try await api.createModel(brand: dell, type: servers, name: "R740")

            func names(_ query: String) async throws -> [String] {
                try await api.get("/api/brands\(query)").decode([Brand].self).map(\.name)
            }
            #expect(try await names("?search=U") == ["Ubiquiti", "Unused"])
            #expect(try await names("?device_type=switch") == ["Ubiquiti"])
            #expect(try await names("?device_type=\(servers.id)") == ["Dell"])
            #expect(try await names("?device_type=\(servers.id)&search=ubi") == [])
            #expect(try await names("?device_type=nothing").isEmpty)
            #expect(try await names("?skip=1&limit=1") == ["Dell"])
            #expect(try await api.get("/api/brands?limit=0").errorFields == ["limit"])
            let counted = try await api.get("/api/brands/\(ubiquiti.id)").decode(Brand.self)
            #expect(counted.modelCount == 1)
        }
    }

    @Test func aBrandsModelsArePaged() async throws {
        try await APITest.withAPI { api, _ in
            let type = try await api.createDeviceType("Switch")
            let brand = try await api.createBrand("Ubiquiti")
            let other = try await api.createBrand("Dell")
            let first = try await api.createModel(brand: brand, type: type, name: "USW-24")
            let second = try await api.createModel(brand: brand, type: type, name: "USW-48")
            _ = try await api.createModel(brand: other, type: type, name: "N1524")

            let models = try await api.get("/api/brands/\(brand.id)/models")
            #expect(models.status == .ok)
            #expect(try models.decode([CatalogModel].self).map(\.id) == [first.id, second.id])
            let paged = try await api.get("/api/brands/\(brand.id)/models?skip=1")
            #expect(try paged.decode([CatalogModel].self).map(\.id) == [second.id])
            #expect(try await api.get("/api/brands/\(other.id)/models?limit=1001").errorFields == ["limit"])
        }
    }

    @Test func deletingABrandModelsUseIs409() async throws {
        try await APITest.withAPI { api, _ in
            let type = try await api.createDeviceType("Switch")
            let brand = try await api.createBrand("Ubiquiti")
            let model = try await api.createModel(brand: brand, type: type, name: "USW-24")
            let refused = try await api.delete("/api/brands/\(brand.id)")
            #expect(refused.status == .conflict)
            #expect((refused.object["detail"] as? String)?.contains("model") == true)
            #expect(try await api.delete("/api/models/\(model.id)").status == .noContent)
            #expect(try await api.delete("/api/brands/\(brand.id)").status == .noContent)
        }
    }

    @Test func everyWriteInvalidatesTheCatalog() async throws {
        let cache = MemoryResultCache()
        try await APITest.withAPI(cache: cache) { api, _ in
            let brand = try await api.createBrand("Acme")
            _ = try await api.put("/api/brands/\(brand.id)", ["website": "https://acme.test"])
            _ = try await api.get("/api/brands/\(brand.id)")
            _ = try await api.delete("/api/brands/\(brand.id)")
            // A refused write changes nothing and invalidates nothing.
            _ = try await api.delete("/api/brands/\(brand.id)")
            #expect(cache.invalidations == [[.catalog], [.catalog], [.catalog]])
        }
    }
}

// MARK: - Catalog fixtures, shared by the catalog and upload route tests

extension APIClient {
    /// Creates a device type through the API (expecting 201).
    func createDeviceType(_ name: String, _ fields: [String: any Sendable] = [:]) async throws -> DeviceType {
        let response = try await post("/api/device-types", fields.merging(["name": name]) { _, new in new })
        #expect(response.status == .created, "\(response.text)")
        return try response.decode(DeviceType.self)
    }

    /// Creates a brand through the API (expecting 201).
    func createBrand(_ name: String, _ fields: [String: any Sendable] = [:]) async throws -> Brand {
        let response = try await post("/api/brands", fields.merging(["name": name]) { _, new in new })
        #expect(response.status == .created, "\(response.text)")
        return try response.decode(Brand.self)
    }

    /// Creates a catalog model through the API (expecting 201).
    func createModel(
        brand: Brand, type: DeviceType, name: String, _ fields: [String: any Sendable] = [:]
    ) async throws -> CatalogModel {
        let body = fields.merging(["brand_id": brand.id, "device_type_id": type.id, "name": name]) { _, new in new }
        let response = try await post("/api/models", body)
        #expect(response.status == .created, "\(response.text)")
        return try response.decode(CatalogModel.self)
    }
}
