import Backend
import Foundation
import HummingbirdTesting
import NIOCore
import RackPlanning
import Testing

@Suite("Routes: devices")
struct DeviceRouteTests {
    @Test(arguments: TestDatabases.kinds)
    func createReadUpdateDeleteADevice(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, _ in
            let specification = try await DeviceAPIFixtures.specification(api)
            let created = try await api.post(
                "/api/devices",
                ["specification_id": specification.id, "custom_name": "Core switch", "serial_number": "SN-1"])
            #expect(created.status == .created)
            let device = try created.decode(Device.self)
            #expect(device.customName == "Core switch" && device.accessFrequency == .medium)
            #expect(device.specification?.model == "USW-Pro-24" && device.catalogModel == nil)

            let read = try await api.get("/api/devices/\(device.id)")
            #expect(read.status == .ok)
            #expect(try read.decode(Device.self).serialNumber == "SN-1")

            // PUT is partial: the serial number and reference stay.
            let updated = try await api.put("/api/devices/\(device.id)", ["access_frequency": "high", "id": 99])
            #expect(updated.status == .ok)
            let after = try updated.decode(Device.self)
            #expect(after.id == device.id && after.accessFrequency == .high)
            #expect(after.serialNumber == "SN-1" && after.specificationID == specification.id)

            #expect(try await api.get("/api/devices").decode([Device].self).map(\.id) == [device.id])
            #expect(try await api.delete("/api/devices/\(device.id)").status == .noContent)
            #expect(try await api.get("/api/devices/\(device.id)").status == .notFound)
        }
    }

    @Test func createNeedsExactlyOneExistingReference() async throws {
        try await APITest.withAPI { api, services in
            let specification = try await DeviceAPIFixtures.specification(api)
            let model = try await DeviceAPIFixtures.catalogModel(services.store)

            let neither = try await api.post("/api/devices", ["custom_name": "Loose"])
            #expect(neither.status == .badRequest)
            #expect(neither.envelope["code"] as? String == "BAD_REQUEST")
            let both = try await api.post("/api/devices", ["specification_id": specification.id, "model_id": model.id])
            #expect(both.status == .badRequest)

            let unknownSpecification = try await api.post("/api/devices", ["specification_id": 999])
            #expect(unknownSpecification.status == .notFound)
            #expect(unknownSpecification.object["detail"] as? String == "Device specification 999 not found")
            let unknownModel = try await api.post("/api/devices", ["model_id": 999])
            #expect(unknownModel.status == .notFound)
            #expect(unknownModel.object["detail"] as? String == "Model 999 not found")

            let byModel = try await api.post("/api/devices", ["model_id": model.id])
            #expect(byModel.status == .created)
            #expect(try byModel.decode(Device.self).catalogModel?.name == "PowerEdge R740")
            #expect(try await api.get("/api/devices").decode([Device].self).count == 1)
        }
    }

    @Test func invalidFieldsAndUppercaseAccessFrequencyAre422() async throws {
        try await APITest.withAPI { api, _ in
            let specification = try await DeviceAPIFixtures.specification(api)
            for access in ["HIGH", "High", "urgent"] {
                let response = try await api.post(
                    "/api/devices", ["specification_id": specification.id, "access_frequency": access])
                #expect(response.status == .unprocessableContent)
                #expect(response.errorFields == ["access_frequency"])
            }
            let empty = try await api.post("/api/devices", ["specification_id": specification.id, "custom_name": ""])
            #expect(empty.errorFields == ["custom_name"])
            let long = try await api.post(
                "/api/devices", ["specification_id": specification.id, "serial_number": String(repeating: "x", count: 201)])
            #expect(long.errorFields == ["serial_number"])
            #expect(try await api.post("/api/devices", raw: "[]").errorFields == ["body"])
            #expect(try await api.get("/api/devices").decode([Device].self).isEmpty)
        }
    }

    @Test func listFiltersByReferenceAndAccessFrequency() async throws {
        try await APITest.withAPI { api, services in
            let switchSpec = try await DeviceAPIFixtures.specification(api)
            let serverSpec = try await DeviceAPIFixtures.specification(api, brand: "Dell", model: "R640", heightU: 1)
            let model = try await DeviceAPIFixtures.catalogModel(services.store)
            let a = try await DeviceAPIFixtures.device(api, ["specification_id": switchSpec.id, "access_frequency": "high"])
            let b = try await DeviceAPIFixtures.device(api, ["specification_id": switchSpec.id])
            let c = try await DeviceAPIFixtures.device(api, ["specification_id": serverSpec.id, "access_frequency": "high"])
            let d = try await DeviceAPIFixtures.device(api, ["model_id": model.id, "access_frequency": "low"])

            func ids(_ query: String) async throws -> [Int] {
                try await api.get("/api/devices\(query)").decode([Device].self).map(\.id)
            }
            #expect(try await ids("") == [a.id, b.id, c.id, d.id])
            #expect(try await ids("?specification_id=\(switchSpec.id)") == [a.id, b.id])
            #expect(try await ids("?model_id=\(model.id)") == [d.id])
            #expect(try await ids("?access_frequency=high") == [a.id, c.id])
            #expect(try await ids("?specification_id=\(switchSpec.id)&access_frequency=high") == [a.id])
            #expect(try await ids("?skip=1&limit=2") == [b.id, c.id])

            #expect(try await api.get("/api/devices?access_frequency=HIGH").errorFields == ["access_frequency"])
            #expect(try await api.get("/api/devices?specification_id=abc").errorFields == ["specification_id"])
            #expect(try await api.get("/api/devices?model_id=1.5").errorFields == ["model_id"])
            #expect(try await api.get("/api/devices?limit=0").errorFields == ["limit"])
            #expect(try await api.get("/api/devices/abc").errorFields == ["id"])
        }
    }

    @Test func updateKeepsExactlyOneReference() async throws {
        try await APITest.withAPI { api, services in
            let specification = try await DeviceAPIFixtures.specification(api)
            let model = try await DeviceAPIFixtures.catalogModel(services.store)
            let device = try await DeviceAPIFixtures.device(api, ["specification_id": specification.id])

            // Adding a model to a specification device names both.
            let both = try await api.put("/api/devices/\(device.id)", ["model_id": model.id])
            #expect(both.status == .badRequest)
            let neither = try await api.put("/api/devices/\(device.id)", ["specification_id": NSNull()])
            #expect(neither.status == .badRequest)
            let unknown = try await api.put(
                "/api/devices/\(device.id)", ["specification_id": NSNull(), "model_id": 999])
            #expect(unknown.status == .notFound)
            #expect(try await api.put("/api/devices/\(device.id)", ["custom_name": ""]).errorFields == ["custom_name"])
            #expect(try await api.put("/api/devices/\(device.id)", ["access_frequency": "LOW"]).status == .unprocessableContent)

            // The failed updates changed nothing.
            #expect(try await api.get("/api/devices/\(device.id)").decode(Device.self) == device)

            let switched = try await api.put(
                "/api/devices/\(device.id)", ["specification_id": NSNull(), "model_id": model.id])
            #expect(switched.status == .ok)
            let after = try switched.decode(Device.self)
            #expect(after.specification == nil && after.catalogModel?.id == model.id)

            #expect(try await api.put("/api/devices/999", ["notes": "x"]).status == .notFound)
            #expect(try await api.delete("/api/devices/999").status == .notFound)
        }
    }

    @Test func updateAndDeleteRefreshTheCachedLayoutOfTheDevicesRack() async throws {
        let cache = MemoryResultCache()
        try await APITest.withAPI(cache: cache) { api, services in
            let specification = try await DeviceAPIFixtures.specification(api)
            let rack = try await api.post("/api/racks", ["name": "Lab"]).decode(Rack.self)
            let device = try await DeviceAPIFixtures.device(
                api, ["specification_id": specification.id, "custom_name": "Before"])
            _ = try await services.store.createPosition(
                RackPosition(id: nil, rackID: rack.id, deviceID: device.id, startU: 1))

            func layoutNames() async throws -> [String?] {
                try await api.get("/api/racks/\(rack.id)/layout").decode(RackLayout.self).positions.map {
                    $0.device?.customName
                }
            }
            #expect(try await layoutNames() == ["Before"])
            #expect(try await layoutNames() == ["Before"])
            #expect(cache.hits == 1)

            #expect(try await api.put("/api/devices/\(device.id)", ["custom_name": "After"]).status == .ok)
            #expect(try await layoutNames() == ["After"])

            #expect(try await api.delete("/api/devices/\(device.id)").status == .noContent)
            #expect(try await layoutNames() == [])
        }
    }

    // MARK: Quick-add

    @Test(arguments: TestDatabases.kinds)
    func quickAddUsesTheFirstSpecificationMatchingBrandAndModel(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, _ in
            let first = try await DeviceAPIFixtures.specification(api, model: "USW-Pro-24")
            _ = try await DeviceAPIFixtures.specification(api, model: "USW-Pro-24-PoE")
            _ = try await DeviceAPIFixtures.specification(api, model: "USW-Lite-8")

            let response = try await api.post(
                "/api/devices/quick-add",
                [
                    "brand": " ubiq ", "model": "pro-24", "custom_name": "Core", "serial_number": "S1",
                    "access_frequency": "high", "notes": "rack top",
                ])
            #expect(response.status == .created)
            let device = try response.decode(Device.self)
            #expect(device.specificationID == first.id && device.specification?.model == "USW-Pro-24")
            #expect(device.customName == "Core" && device.serialNumber == "S1" && device.notes == "rack top")
            #expect(device.accessFrequency == .high && device.modelID == nil)
        }
    }

    @Test func quickAddWithoutAMatchListsAtMostFiveNearMatches() async throws {
        try await APITest.withAPI { api, _ in
            var ubiquiti: [DeviceSpecification] = []
            for index in 1...6 {
                ubiquiti.append(try await DeviceAPIFixtures.specification(api, model: "USW-\(index)"))
            }
            let dell = try await DeviceAPIFixtures.specification(api, brand: "Dell", model: "R640")

            let byBrand = try await api.post("/api/devices/quick-add", ["brand": "ubiquiti", "model": "UDM"])
            #expect(byBrand.status == .notFound)
            #expect(byBrand.envelope["code"] as? String == "RESOURCE_NOT_FOUND")
            let detail = byBrand.object["detail"] as? String ?? ""
            #expect(detail.hasPrefix("No device specification matches brand 'ubiquiti' and model 'UDM'."))
            let listed = ubiquiti.prefix(5).map { "Ubiquiti \($0.model) (id \($0.id))" }.joined(separator: ", ")
            #expect(detail.contains("Near matches: \(listed)."))
            #expect(!detail.contains("USW-6"))
            #expect(detail.contains("POST /api/device-specs"))

            // A model term alone makes a near match too.
            let byModel = try await api.post("/api/devices/quick-add", ["brand": "HPE", "model": "r64"])
            #expect(
                byModel.object["detail"] as? String
                    == "No device specification matches brand 'HPE' and model 'r64'. Near matches: Dell R640 "
                    + "(id \(dell.id)). To add it, create a specification with POST /api/device-specs.")

            let nothing = try await api.post("/api/devices/quick-add", ["brand": "Zyxel", "model": "GS1900"])
            #expect(nothing.status == .notFound)
            #expect((nothing.object["detail"] as? String)?.contains("No similar specification is stored") == true)
            #expect(try await api.get("/api/devices").decode([Device].self).isEmpty)
        }
    }

    @Test func quickAddValidatesItsBody() async throws {
        try await APITest.withAPI { api, _ in
            _ = try await DeviceAPIFixtures.specification(api)
            let missing = try await api.post("/api/devices/quick-add", ["custom_name": "x"])
            #expect(missing.status == .unprocessableContent)
            #expect(Set(missing.errorFields) == ["brand", "model"])
            #expect(try await api.post("/api/devices/quick-add", ["brand": "Ubiquiti", "model": "  "]).errorFields == ["model"])
            #expect(try await api.post("/api/devices/quick-add", ["brand": 7, "model": "USW"]).errorFields == ["brand"])
            let upper = try await api.post(
                "/api/devices/quick-add", ["brand": "Ubiquiti", "model": "USW", "access_frequency": "HIGH"])
            #expect(upper.errorFields == ["access_frequency"])
            // The lookup decides the reference: one in the body is ignored, not a 400.
            let ignored = try await api.post(
                "/api/devices/quick-add", ["brand": "Ubiquiti", "model": "USW", "model_id": 5])
            #expect(ignored.status == .created)
            #expect(try ignored.decode(Device.self).modelID == nil)
        }
    }

    // MARK: Bulk

    @Test(arguments: TestDatabases.kinds)
    func bulkCreatesNumberedDevicesOfOneSpecification(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, _ in
            let specification = try await DeviceAPIFixtures.specification(api, variant: "PoE")
            let named = try await api.post("/api/devices/bulk?specification_id=\(specification.id)&quantity=3&name_prefix=Node")
            #expect(named.status == .created)
            let devices = try named.decode([Device].self)
            #expect(devices.map(\.customName) == ["Node 1", "Node 2", "Node 3"])
            #expect(devices.allSatisfy { $0.specificationID == specification.id && $0.specification != nil })

            // Without a prefix, the specification's display name is the prefix.
            let unnamed = try await api.post("/api/devices/bulk?specification_id=\(specification.id)&quantity=2")
            #expect(try unnamed.decode([Device].self).map(\.customName) == [
                "Ubiquiti USW-Pro-24 PoE 1", "Ubiquiti USW-Pro-24 PoE 2",
            ])
            #expect(try await api.get("/api/devices").decode([Device].self).count == 5)
        }
    }

    @Test func bulkCreatesAllOrNone() async throws {
        try await APITest.withAPI { api, _ in
            let specification = try await DeviceAPIFixtures.specification(api)
            let base = "/api/devices/bulk?specification_id=\(specification.id)"
            #expect(try await api.post("\(base)&quantity=0").errorFields == ["quantity"])
            #expect(try await api.post("\(base)&quantity=101").errorFields == ["quantity"])
            #expect(try await api.post("\(base)&quantity=many").errorFields == ["quantity"])
            #expect(try await api.post(base).errorFields == ["quantity"])
            #expect(try await api.post("/api/devices/bulk?quantity=2").errorFields == ["specification_id"])
            // "<prefix> 10" may be 200 characters, not 201.
            let longPrefix = String(repeating: "n", count: 198)
            #expect(try await api.post("\(base)&quantity=10&name_prefix=\(longPrefix)").errorFields == ["name_prefix"])
            let unknown = try await api.post("/api/devices/bulk?specification_id=999&quantity=5")
            #expect(unknown.status == .notFound)
            #expect(try await api.get("/api/devices").decode([Device].self).isEmpty)

            // The longest prefix that fits, and the most devices one request may create.
            let fitting = String(repeating: "n", count: 196)
            let most = try await api.post("\(base)&quantity=100&name_prefix=\(fitting)")
            #expect(most.status == .created)
            #expect(try most.decode([Device].self).last?.customName == "\(fitting) 100")
        }
    }

    // MARK: From a catalog model

    @Test(arguments: TestDatabases.kinds)
    func fromModelDeviceCarriesTheModelsPhysicalData(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, services in
            let model = try await DeviceAPIFixtures.catalogModel(services.store)
            let response = try await api.post(
                "/api/devices/from-model", ["model_id": model.id, "custom_name": "db-1", "access_frequency": "low"])
            #expect(response.status == .created)
            let device = try response.decode(Device.self)
            #expect(device.modelID == model.id && device.specificationID == nil && device.specification == nil)
            #expect(device.customName == "db-1" && device.accessFrequency == .low)
            let embedded = try #require(device.catalogModel)
            #expect(embedded.heightU == 2 && embedded.powerWatts == 495 && embedded.widthType == "19\"")
            #expect(embedded.brand?.name == "Dell" && embedded.deviceType?.name == "Server")
            let profile = try #require(device.physicalProfile)
            #expect(profile.heightU == 2 && profile.powerWatts == 495 && profile.width == .nineteenInch)
        }
    }

    @Test func fromModelErrors() async throws {
        try await APITest.withAPI { api, services in
            let model = try await DeviceAPIFixtures.catalogModel(services.store)
            let specification = try await DeviceAPIFixtures.specification(api)
            #expect(try await api.post("/api/devices/from-model", ["custom_name": "x"]).errorFields == ["model_id"])
            #expect(try await api.post("/api/devices/from-model", ["model_id": "R740"]).errorFields == ["model_id"])
            let unknown = try await api.post("/api/devices/from-model", ["model_id": 999])
            #expect(unknown.status == .notFound)
            let both = try await api.post(
                "/api/devices/from-model", ["model_id": model.id, "specification_id": specification.id])
            #expect(both.status == .badRequest)
            #expect(try await api.get("/api/devices").decode([Device].self).isEmpty)
        }
    }
}

/// Specifications and devices made through the routes under test, and catalog models made in
/// the store (the catalog routes are another group's), for the device, specification and search
/// route tests.
enum DeviceAPIFixtures {
    /// `POST /api/device-specs` (the test fails unless it is a 201).
    static func specification(
        _ api: APIClient, brand: String = "Ubiquiti", model: String = "USW-Pro-24", variant: String? = nil,
        heightU: Double = 1, watts: Double? = 100, _ fields: [String: any Sendable] = [:]
    ) async throws -> DeviceSpecification {
        var body = fields
        body["brand"] = brand
        body["model"] = model
        body["height_u"] = heightU
        if let variant { body["variant"] = variant }
        if let watts { body["power_watts"] = watts }
        let response = try await api.post("/api/device-specs", body)
        try #require(response.status == .created, "specification not created: \(response.text)")
        return try response.decode(DeviceSpecification.self)
    }

    /// `POST /api/devices` (the test fails unless it is a 201).
    static func device(_ api: APIClient, _ body: [String: any Sendable]) async throws -> Device {
        let response = try await api.post("/api/devices", body)
        try #require(response.status == .created, "device not created: \(response.text)")
        return try response.decode(Device.self)
    }

    /// A catalog model (2U, 19", 495 W) of a brand and a device type created with it.
    static func catalogModel(
        _ store: any RackRepository, brand: String = "Dell", type: String = "Server", name: String = "PowerEdge R740"
    ) async throws -> CatalogModel {
        let brand = try await store.createBrand(Brand(id: 0, name: brand, slug: brand.lowercased()))
        let type = try await store.createDeviceType(DeviceType(id: 0, name: type, slug: type.lowercased()))
        return try await store.createModel(
            CatalogModel(
                id: 0, brandID: brand.id, deviceTypeID: type.id, name: name, heightU: 2, widthType: "19\"",
                depthMM: 700, weightKG: 28, powerWatts: 495, airflowPattern: "Front-to-Back"))
    }
}
