import Backend
import RackPlanning
import Testing

@Suite("Store: device types, brands and models")
struct StoreCatalogTests {
    @Test(arguments: TestDatabases.kinds)
    func brandsAndDeviceTypesRoundTripWithModelCounts(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let (brand, type, model) = try await StoreFixtures.catalog(store)
            _ = try await store.createModel(CatalogModel(id: 0, brandID: brand.id, deviceTypeID: type.id, name: "R650"))

            let readBrand = try await store.brand(id: brand.id)
            #expect(readBrand.modelCount == 2)
            #expect(readBrand.createdAt != nil)
            #expect(try await store.deviceType(id: type.id).modelCount == 2)
            #expect(try await store.deviceType(id: type.id).icon == "🖥️")

            var changed = readBrand
            changed.logoURL = "/uploads/brand_logos/dell_0123abcd.png"
            changed.foundedYear = 1984
            let updated = try await store.updateBrand(changed)
            #expect(updated.logoURL == "/uploads/brand_logos/dell_0123abcd.png" && updated.foundedYear == 1984)
            #expect(updated.modelCount == 2)
            #expect(try await store.model(id: model.id).brand?.logoURL == "/uploads/brand_logos/dell_0123abcd.png")

            var renamed = try await store.deviceType(id: type.id)
            renamed.name = "Rack server"
            #expect(try await store.updateDeviceType(renamed).name == "Rack server")
            await #expect(throws: StoreError.notFound) {
                try await store.updateBrand(Brand(id: 999, name: "x", slug: "x"))
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func duplicateNamesAndSlugsAreConflictsSayingWhich(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            _ = try await store.createBrand(Brand(id: 0, name: "Dell", slug: "dell"))
            let name = await #expect(throws: StoreError.conflict) {
                try await store.createBrand(Brand(id: 0, name: "Dell", slug: "dell-2"))
            }
            #expect(name?.detail == "A brand with this name already exists")
            let slug = await #expect(throws: StoreError.conflict) {
                try await store.createBrand(Brand(id: 0, name: "Dell EMC", slug: "dell"))
            }
            #expect(slug?.detail == "A brand with this slug already exists")

            _ = try await store.createDeviceType(DeviceType(id: 0, name: "Switch", slug: "switch"))
            let type = await #expect(throws: StoreError.conflict) {
                try await store.createDeviceType(DeviceType(id: 0, name: "Switch", slug: "switch-2"))
            }
            #expect(type?.detail == "A device type with this name already exists")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aModelIsUniquePerBrandNameAndVariantAndNeedsExistingBrandAndType(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let (brand, type, _) = try await StoreFixtures.catalog(store)
            let other = try await store.createBrand(Brand(id: 0, name: "HPE", slug: "hpe"))

            let duplicate = await #expect(throws: StoreError.conflict) {
                try await store.createModel(
                    CatalogModel(id: 0, brandID: brand.id, deviceTypeID: type.id, name: "PowerEdge R740"))
            }
            #expect(duplicate?.detail == "A model with this name and variant already exists for this brand")
            _ = try await store.createModel(
                CatalogModel(id: 0, brandID: brand.id, deviceTypeID: type.id, name: "PowerEdge R740", variant: "XD"))
            _ = try await store.createModel(
                CatalogModel(id: 0, brandID: other.id, deviceTypeID: type.id, name: "PowerEdge R740"))

            let noBrand = await #expect(throws: StoreError.invalidReference) {
                try await store.createModel(CatalogModel(id: 0, brandID: 999, deviceTypeID: type.id, name: "X"))
            }
            #expect(noBrand?.detail == "Brand 999 not found")
            let noType = await #expect(throws: StoreError.invalidReference) {
                try await store.createModel(CatalogModel(id: 0, brandID: brand.id, deviceTypeID: 998, name: "X"))
            }
            #expect(noType?.detail == "Device type 998 not found")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func modelsEmbedBrandAndTypeAndFilterBySearchBrandAndType(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let (dell, server, r740) = try await StoreFixtures.catalog(store)
            let ubiquiti = try await store.createBrand(Brand(id: 0, name: "Ubiquiti", slug: "ubiquiti"))
            let switchType = try await store.createDeviceType(DeviceType(id: 0, name: "Switch", slug: "switch"))
            let usw = try await store.createModel(
                CatalogModel(
                    id: 0, brandID: ubiquiti.id, deviceTypeID: switchType.id, name: "USW-Pro-24",
                    typicalPorts: ["1GbE": 24]))
            let r650 = try await store.createModel(
                CatalogModel(id: 0, brandID: dell.id, deviceTypeID: server.id, name: "PowerEdge R650"))

            #expect(usw.brand == CatalogModel.BrandSummary(id: ubiquiti.id, name: "Ubiquiti", slug: "ubiquiti"))
            #expect(usw.deviceType?.slug == "switch")
            #expect(usw.typicalPorts == ["1GbE": 24])
            func ids(_ filter: ModelFilter) async throws -> [Int] {
                try await store.models(filter: filter, page: Page()).map(\.id)
            }
            #expect(try await ids(ModelFilter(brandID: dell.id)) == [r740.id, r650.id])
            #expect(try await ids(ModelFilter(deviceTypeID: switchType.id)) == [usw.id])
            #expect(try await ids(ModelFilter(brandID: dell.id, search: "r65")) == [r650.id])
            #expect(try await store.searchModels("POWEREDGE", limit: 1).map(\.id) == [r740.id])
            #expect(try await store.searchModels("nothing", limit: 50).isEmpty)

            func brandIDs(_ filter: BrandFilter) async throws -> [Int] {
                try await store.brands(filter: filter, page: Page()).map(\.id)
            }
            #expect(try await brandIDs(BrandFilter()) == [dell.id, ubiquiti.id])
            #expect(try await brandIDs(BrandFilter(search: "UBI")) == [ubiquiti.id])
            #expect(try await brandIDs(BrandFilter(deviceTypeID: server.id)) == [dell.id])
            #expect(try await brandIDs(BrandFilter(deviceTypeSlug: "switch")) == [ubiquiti.id])
            #expect(try await store.searchBrands("de", limit: 50).map(\.id) == [dell.id])
            #expect(
                try await store.brands(filter: BrandFilter(), page: Page(skip: 1, limit: 1)).map(\.id) == [ubiquiti.id])
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func recordsInUseCannotBeDeleted(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let (brand, type, model) = try await StoreFixtures.catalog(store)
            let device = try await store.createDevice(Device(id: 0, modelID: model.id))
            #expect(try await store.model(id: model.id).deviceCount == 1)

            let modelInUse = await #expect(throws: StoreError.conflict) { try await store.deleteModel(id: model.id) }
            #expect(modelInUse?.detail == "Model \(model.id) is used by 1 device(s)")
            let brandInUse = await #expect(throws: StoreError.conflict) { try await store.deleteBrand(id: brand.id) }
            #expect(brandInUse?.detail == "Brand \(brand.id) is used by 1 model(s)")
            await #expect(throws: StoreError.conflict) { try await store.deleteDeviceType(id: type.id) }

            try await store.deleteDevice(id: device.id)
            try await store.deleteModel(id: model.id)
            try await store.deleteBrand(id: brand.id)
            try await store.deleteDeviceType(id: type.id)
            await #expect(throws: StoreError.notFound) { try await store.brand(id: brand.id) }
            await #expect(throws: StoreError.notFound) { try await store.deleteDeviceType(id: type.id) }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func editingAModelMovesTheRacksHoldingItsDevices(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let rack = try await StoreFixtures.rack(store)
            var (_, _, model) = try await StoreFixtures.catalog(store)
            let device = try await store.createDevice(Device(id: 0, modelID: model.id))
            _ = try await store.createPosition(RackPosition(id: nil, rackID: rack.id, deviceID: device.id, startU: 1))
            let before = try await store.rack(id: rack.id).updatedAt!

            model.heightU = 4
            let updated = try await store.updateModel(model)

            #expect(updated.heightU == 4 && updated.deviceCount == 1)
            #expect(try await store.rack(id: rack.id).updatedAt! > before)
            #expect(try await store.layout(rackID: rack.id).utilizationPercent == 9.52)
        }
    }
}
