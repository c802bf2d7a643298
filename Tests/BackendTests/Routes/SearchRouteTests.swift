import Backend
import Foundation
import RackPlanning
import Testing

@Suite("Routes: search")
struct SearchRouteTests {
    @Test(arguments: TestDatabases.kinds)
    func findsSpecificationsModelsAndBrandsInOneList(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, services in
            let specification = try await DeviceAPIFixtures.specification(
                api, brand: "Dell", model: "PowerEdge R640", variant: "8SFF", heightU: 1)
            let model = try await DeviceAPIFixtures.catalogModel(services.store)
            _ = try await DeviceAPIFixtures.specification(api)

            let response = try await api.get("/api/search?q=poweredge")
            #expect(response.status == .ok)
            let results = try response.decode([SearchResult].self)
            #expect(
                results == [
                    SearchResult(
                        type: .specification, id: specification.id, name: "Dell PowerEdge R640 8SFF", brand: "Dell",
                        variant: "8SFF", heightU: 1),
                    SearchResult(
                        type: .model, id: model.id, name: "Dell PowerEdge R740", brand: "Dell", deviceType: "Server",
                        heightU: 2),
                ])
            // The JSON names: `type`, `device_type`, `height_u`; absent fields are left out.
            let first = try #require(response.array.first as? [String: Any])
            #expect(first["type"] as? String == "specification" && first["height_u"] as? Double == 1)
            #expect(first["device_type"] == nil)

            // A brand matches by name; a specification by brand too.
            let dell = try await api.get("/api/search?q=DELL").decode([SearchResult].self)
            #expect(dell.map(\.type) == [.specification, .brand])
            #expect(dell.last == SearchResult(type: .brand, id: try #require(model.brand?.id), name: "Dell"))
        }
    }

    @Test func nothingMatchingIsAnEmptyList() async throws {
        try await APITest.withAPI { api, services in
            _ = try await DeviceAPIFixtures.specification(api)
            _ = try await DeviceAPIFixtures.catalogModel(services.store)
            for query in ["cisco", "%25", "_"] {
                let response = try await api.get("/api/search?q=\(query)")
                #expect(response.status == .ok)
                #expect(response.text == "[]")
            }
        }
    }

    @Test func limitAppliesToEachKindOfHit() async throws {
        try await APITest.withAPI { api, services in
            for index in 1...3 {
                _ = try await DeviceAPIFixtures.specification(api, brand: "Acme", model: "Box \(index)")
                _ = try await services.store.createBrand(Brand(id: 0, name: "Acme \(index)", slug: "acme-\(index)"))
            }
            let limited = try await api.get("/api/search?q=acme&limit=2").decode([SearchResult].self)
            #expect(limited.map(\.type) == [.specification, .specification, .brand, .brand])
            #expect(limited.map(\.name) == ["Acme Box 1", "Acme Box 2", "Acme 1", "Acme 2"])
            #expect(try await api.get("/api/search?q=acme").decode([SearchResult].self).count == 6)
        }
    }

    @Test func queryIsRequiredAndLimitBounded() async throws {
        try await APITest.withAPI { api, _ in
            let missing = try await api.get("/api/search")
            #expect(missing.status == .unprocessableContent && missing.errorFields == ["q"])
            #expect(try await api.get("/api/search?q=").errorFields == ["q"])
            #expect(try await api.get("/api/search?q=%20").errorFields == ["q"])
            #expect(try await api.get("/api/search?q=a&limit=0").errorFields == ["limit"])
            #expect(try await api.get("/api/search?q=a&limit=101").errorFields == ["limit"])
            #expect(try await api.get("/api/search?q=a&limit=ten").errorFields == ["limit"])
            #expect(try await api.get("/api/search?q=a&limit=100").status == .ok)
        }
    }

    @Test func cachedSpecificationHitsFollowCatalogWrites() async throws {
        let cache = MemoryResultCache()
        try await APITest.withAPI(cache: cache) { api, _ in
            let first = try await DeviceAPIFixtures.specification(api)
            func names() async throws -> [String] {
                try await api.get("/api/search?q=ubiquiti").decode([SearchResult].self).map(\.name)
            }
            #expect(try await names() == ["Ubiquiti USW-Pro-24"])
            let hits = cache.hits
            #expect(try await names() == ["Ubiquiti USW-Pro-24"])
            #expect(cache.hits == hits + 1)
            _ = try await api.put("/api/device-specs/\(first.id)", ["model": "USW-Pro-48"])
            #expect(try await names() == ["Ubiquiti USW-Pro-48"])
        }
    }
}
