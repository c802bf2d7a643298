import Backend
import Foundation
import RackPlanning
import Testing

@Suite("Routes: device specifications")
struct SpecificationRouteTests {
    @Test(arguments: TestDatabases.kinds)
    func createReadUpdateDeleteASpecification(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, _ in
            let created = try await api.post(
                "/api/device-specs",
                [
                    "brand": "Ubiquiti", "model": "USW-Pro-24", "height_u": 1, "width_type": "19\"",
                    "power_watts": 100, "typical_ports": ["1GbE": 24, "SFP+": 2], "airflow_pattern": "side_to_side",
                ])
            #expect(created.status == .created)
            let specification = try created.decode(DeviceSpecification.self)
            // Heat derived from watts when absent; defaults for the rest.
            #expect(specification.heatOutputBTU == 100 * DeviceSpecification.btuPerWatt)
            #expect(specification.source == .userCustom && specification.confidence == .medium)
            #expect(specification.typicalPorts == ["1GbE": 24, "SFP+": 2] && specification.airflowPattern == .sideToSide)
            #expect(specification.lastUpdated != nil)

            let read = try await api.get("/api/device-specs/\(specification.id)")
            #expect(read.status == .ok)
            #expect(try read.decode(DeviceSpecification.self) == specification)

            let updated = try await api.put(
                "/api/device-specs/\(specification.id)", ["depth_mm": 285, "confidence": "high", "id": 42])
            #expect(updated.status == .ok)
            let after = try updated.decode(DeviceSpecification.self)
            #expect(after.id == specification.id && after.depthMM == 285 && after.confidence == .high)
            #expect(after.model == "USW-Pro-24" && after.powerWatts == 100)

            #expect(try await api.get("/api/device-specs").decode([DeviceSpecification].self).map(\.id) == [specification.id])
            #expect(try await api.delete("/api/device-specs/\(specification.id)").status == .noContent)
            let gone = try await api.get("/api/device-specs/\(specification.id)")
            #expect(gone.status == .notFound)
            #expect(gone.envelope["code"] as? String == "RESOURCE_NOT_FOUND")
        }
    }

    @Test func createValidatesFieldsAndRefusesDuplicates() async throws {
        try await APITest.withAPI { api, _ in
            let missing = try await api.post("/api/device-specs", ["variant": "PoE"])
            #expect(missing.status == .unprocessableContent)
            #expect(Set(missing.errorFields) == ["brand", "model", "height_u"])
            let ranges = try await api.post(
                "/api/device-specs", ["brand": "", "model": "M", "height_u": 51, "power_watts": -1])
            #expect(Set(ranges.errorFields) == ["brand", "height_u", "power_watts"])
            let airflow = try await api.post(
                "/api/device-specs", ["brand": "A", "model": "M", "height_u": 1, "airflow_pattern": "sideways"])
            #expect(airflow.errorFields == ["airflow_pattern"])
            let source = try await api.post(
                "/api/device-specs", ["brand": "A", "model": "M", "height_u": 1, "source": "WEB_FETCHED"])
            #expect(source.errorFields == ["source"])

            // Heat given explicitly is kept as given.
            let given = try await DeviceAPIFixtures.specification(api, watts: 100, ["heat_output_btu": 500])
            #expect(given.heatOutputBTU == 500)

            let duplicate = try await api.post("/api/device-specs", ["brand": "Ubiquiti", "model": "USW-Pro-24", "height_u": 2])
            #expect(duplicate.status == .conflict)
            #expect(duplicate.envelope["code"] as? String == "CONFLICT")
            #expect(
                duplicate.object["detail"] as? String
                    == "A device specification with this brand, model and variant already exists")
            // Another variant of the same model is another specification.
            let variant = try await DeviceAPIFixtures.specification(api, variant: "PoE")
            #expect(variant.id != given.id)
            #expect(try await api.post(
                "/api/device-specs", ["brand": "Ubiquiti", "model": "USW-Pro-24", "variant": "PoE", "height_u": 1]
            ).status == .conflict)
        }
    }

    @Test func listFiltersByBrandModelWidthAndSource() async throws {
        try await APITest.withAPI { api, _ in
            let a = try await DeviceAPIFixtures.specification(api, ["width_type": "19\"", "source": "community"])
            let b = try await DeviceAPIFixtures.specification(api, model: "USW-Lite-8", ["width_type": "11\""])
            let c = try await DeviceAPIFixtures.specification(api, brand: "Dell", model: "R640", ["width_type": "19\""])

            func ids(_ query: String) async throws -> [Int] {
                try await api.get("/api/device-specs\(query)").decode([DeviceSpecification].self).map(\.id)
            }
            #expect(try await ids("?brand=UBI") == [a.id, b.id])
            #expect(try await ids("?model=lite") == [b.id])
            #expect(try await ids("?width_type=19%22") == [a.id, c.id])
            #expect(try await ids("?source=community") == [a.id])
            #expect(try await ids("?brand=ubi&width_type=19%22") == [a.id])
            #expect(try await ids("?skip=2") == [c.id])
            #expect(try await api.get("/api/device-specs?width_type=20%22").errorFields == ["width_type"])
            #expect(try await api.get("/api/device-specs?source=web").errorFields == ["source"])
            #expect(try await api.get("/api/device-specs?limit=1001").errorFields == ["limit"])
            #expect(try await api.get("/api/device-specs/x").errorFields == ["id"])
        }
    }

    @Test func legacySearchMatchesBrandOrModelAndAnswers404WhenNothingMatches() async throws {
        try await APITest.withAPI { api, _ in
            let ubiquiti = try await DeviceAPIFixtures.specification(api)
            let dell = try await DeviceAPIFixtures.specification(api, brand: "Dell", model: "PowerEdge R640")
            let byBrand = try await api.get("/api/device-specs/search?q=ubiq")
            #expect(byBrand.status == .ok)
            #expect(try byBrand.decode([DeviceSpecification].self).map(\.id) == [ubiquiti.id])
            #expect(try await api.get("/api/device-specs/search?q=r640").decode([DeviceSpecification].self).map(\.id) == [dell.id])
            #expect(try await api.get("/api/device-specs/search?q=O").decode([DeviceSpecification].self).count == 2)

            let none = try await api.get("/api/device-specs/search?q=cisco")
            #expect(none.status == .notFound)
            #expect((none.object["detail"] as? String)?.hasPrefix("No device specifications found matching 'cisco'") == true)
            // `%` and `_` are literal, not wildcards.
            #expect(try await api.get("/api/device-specs/search?q=%25").status == .notFound)

            #expect(try await api.get("/api/device-specs/search").errorFields == ["q"])
            #expect(try await api.get("/api/device-specs/search?q=").errorFields == ["q"])
            #expect(try await api.get("/api/device-specs/search?q=%20%20").errorFields == ["q"])
        }
    }

    @Test func legacySearchReturnsAtMostFifty() async throws {
        try await APITest.withAPI { api, services in
            for index in 1...51 {
                _ = try await services.store.createSpecification(
                    DeviceSpecification(id: 0, brand: "Acme", model: "Box \(index)", heightU: 1))
            }
            let found = try await api.get("/api/device-specs/search?q=acme").decode([DeviceSpecification].self)
            #expect(found.count == 50)
            #expect(found.last?.model == "Box 50")
        }
    }

    @Test func updateValidatesAndRefusesDuplicates() async throws {
        try await APITest.withAPI { api, _ in
            let pro = try await DeviceAPIFixtures.specification(api)
            _ = try await DeviceAPIFixtures.specification(api, model: "USW-Lite-8")
            let clash = try await api.put("/api/device-specs/\(pro.id)", ["model": "USW-Lite-8"])
            #expect(clash.status == .conflict)
            #expect(try await api.put("/api/device-specs/\(pro.id)", ["height_u": -1]).errorFields == ["height_u"])
            #expect(try await api.put("/api/device-specs/\(pro.id)", ["width_type": "20\""]).errorFields == ["width_type"])
            #expect(try await api.put("/api/device-specs/999", ["height_u": 2]).status == .notFound)
            #expect(try await api.get("/api/device-specs/\(pro.id)").decode(DeviceSpecification.self) == pro)
        }
    }

    @Test func updateKeepsADerivedHeatOutputInStepWithThePowerDraw() async throws {
        try await APITest.withAPI { api, _ in
            let derived = try await DeviceAPIFixtures.specification(api, watts: 100)
            let rederived = try await api.put("/api/device-specs/\(derived.id)", ["power_watts": 200])
            #expect(try rederived.decode(DeviceSpecification.self).heatOutputBTU == 200 * DeviceSpecification.btuPerWatt)
            let cleared = try await api.put("/api/device-specs/\(derived.id)", ["heat_output_btu": NSNull(), "power_watts": 50])
            #expect(try cleared.decode(DeviceSpecification.self).heatOutputBTU == 50 * DeviceSpecification.btuPerWatt)

            // A measured heat output is never replaced.
            let measured = try await DeviceAPIFixtures.specification(
                api, model: "USW-Lite-8", watts: 100, ["heat_output_btu": 250])
            let kept = try await api.put("/api/device-specs/\(measured.id)", ["power_watts": 300])
            #expect(try kept.decode(DeviceSpecification.self).heatOutputBTU == 250)
            let given = try await api.put("/api/device-specs/\(measured.id)", ["power_watts": 10, "heat_output_btu": 40])
            #expect(try given.decode(DeviceSpecification.self).heatOutputBTU == 40)
        }
    }

    @Test func deleteWhileDevicesUseItIs409() async throws {
        try await APITest.withAPI { api, _ in
            let specification = try await DeviceAPIFixtures.specification(api)
            let device = try await DeviceAPIFixtures.device(api, ["specification_id": specification.id])
            let used = try await api.delete("/api/device-specs/\(specification.id)")
            #expect(used.status == .conflict)
            #expect(used.object["detail"] as? String == "Device specification \(specification.id) is used by 1 device(s)")
            #expect(try await api.get("/api/device-specs/\(specification.id)").status == .ok)

            #expect(try await api.delete("/api/devices/\(device.id)").status == .noContent)
            #expect(try await api.delete("/api/device-specs/\(specification.id)").status == .noContent)
            #expect(try await api.delete("/api/device-specs/\(specification.id)").status == .notFound)
        }
    }

    @Test func fetchAnswersTheStoredSpecificationOnly() async throws {
        try await APITest.withAPI { api, _ in
            let stored = try await DeviceAPIFixtures.specification(api)
            _ = try await DeviceAPIFixtures.specification(api, model: "USW-Pro-24-PoE")
            let found = try await api.post("/api/device-specs/fetch", ["brand": "ubiquiti", "model": " usw-pro-24 "])
            #expect(found.status == .ok)
            #expect(try found.decode(DeviceSpecification.self) == stored)

            // A partial name is not the make asked for, and nothing is scraped.
            let partial = try await api.post("/api/device-specs/fetch", ["brand": "Ubiquiti", "model": "USW-Pro"])
            #expect(partial.status == .notFound)
            let detail = partial.object["detail"] as? String ?? ""
            #expect(detail.contains("No stored device specification for brand 'Ubiquiti' and model 'USW-Pro'"))
            #expect(detail.contains("does not fetch specifications from the web"))
            #expect(detail.contains("POST /api/device-specs"))
            #expect(try await api.get("/api/device-specs").decode([DeviceSpecification].self).count == 2)

            #expect(try await api.post("/api/device-specs/fetch", ["brand": "Ubiquiti"]).errorFields == ["model"])
            #expect(try await api.post("/api/device-specs/fetch", raw: "nope").errorFields == ["body"])
        }
    }

    @Test func cachedReadsAreRefreshedByEveryWrite() async throws {
        let cache = MemoryResultCache()
        try await APITest.withAPI(cache: cache) { api, services in
            let specification = try await DeviceAPIFixtures.specification(api)
            func read() async throws -> DeviceSpecification {
                try await api.get("/api/device-specs/\(specification.id)").decode(DeviceSpecification.self)
            }
            #expect(try await read().depthMM == nil)
            // A change behind the API's back is not seen: the read is cached...
            var behind = specification
            behind.depthMM = 111
            _ = try await services.store.updateSpecification(behind)
            #expect(try await read().depthMM == nil)
            // ...until a write through the API invalidates the catalog.
            _ = try await api.put("/api/device-specs/\(specification.id)", ["mounting_type": "rack ears"])
            let fresh = try await read()
            #expect(fresh.depthMM == 111 && fresh.mountingType == "rack ears")

            func searchCount() async throws -> Int {
                try await api.get("/api/device-specs/search?q=ubiquiti").decode([DeviceSpecification].self).count
            }
            #expect(try await searchCount() == 1)
            let second = try await DeviceAPIFixtures.specification(api, model: "USW-Lite-8")
            #expect(try await searchCount() == 2)
            #expect(try await api.delete("/api/device-specs/\(second.id)").status == .noContent)
            #expect(try await searchCount() == 1)
            // A query differing only in case shares the cached result.
            let hits = cache.hits
            #expect(try await api.get("/api/device-specs/search?q=UBIQUITI").decode([DeviceSpecification].self).count == 1)
            #expect(cache.hits == hits + 1)
        }
    }
}
