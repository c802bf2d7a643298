import Backend
import RackPlanning
import Testing

@Suite("Store: device specifications")
struct StoreSpecificationTests {
    @Test(arguments: TestDatabases.kinds)
    func creatingStoresEveryFieldAndDerivesHeatFromPower(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let spec = try await store.createSpecification(
                DeviceSpecification(
                    id: 0, brand: "APC", model: "SMT1500RMI2U", variant: "rev B", heightU: 2, widthType: .nineteenInch,
                    depthMM: 477, weightKG: 28.6, powerWatts: 100, airflowPattern: .sideToSide, maxOperatingTempC: 40,
                    typicalPorts: ["C13": 6], mountingType: "rack", source: .manufacturerSpec,
                    sourceURL: "https://example.com/apc", confidence: .high, fetchedAt: "2025-01-02T03:04:05Z"))

            #expect(spec.heatOutputBTU == 341.2)
            #expect(spec.lastUpdated != nil)
            let read = try await store.specification(id: spec.id)
            #expect(read == spec)
            #expect(read.typicalPorts == ["C13": 6])
            #expect(read.airflowPattern == .sideToSide && read.source == .manufacturerSpec && read.confidence == .high)
            #expect(try await store.specification(brand: "APC", model: "SMT1500RMI2U", variant: "rev B") == spec)
            #expect(try await store.specification(brand: "APC", model: "SMT1500RMI2U", variant: nil) == nil)

            var changed = read
            changed.heatOutputBTU = nil
            changed.powerWatts = nil
            changed.typicalPorts = nil
            let updated = try await store.updateSpecification(changed)
            #expect(updated.heatOutputBTU == nil && updated.typicalPorts == nil)
            #expect(updated.lastUpdated! > spec.lastUpdated!)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aDuplicateBrandModelAndVariantIsAConflictCountingNoVariantAsOne(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            _ = try await StoreFixtures.specification(store, brand: "Cisco", model: "C9300")
            let duplicate = await #expect(throws: StoreError.conflict) {
                try await StoreFixtures.specification(store, brand: "Cisco", model: "C9300")
            }
            #expect(duplicate?.detail == "A device specification with this brand, model and variant already exists")
            #expect(duplicate?.detail.contains("device_specifications") == false)

            _ = try await StoreFixtures.specification(store, brand: "Cisco", model: "C9300", variant: "48P")
            await #expect(throws: StoreError.conflict) {
                try await StoreFixtures.specification(store, brand: "Cisco", model: "C9300", variant: "48P")
            }
            _ = try await StoreFixtures.specification(store, brand: "cisco", model: "C9300")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func filtersByBrandAndModelSubstringIgnoringCaseAndByWidthAndSource(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let a = try await StoreFixtures.specification(store, brand: "Ubiquiti", model: "USW-Pro-24")
            let b = try await StoreFixtures.specification(
                store, brand: "Ubiquiti", model: "UDM-Pro", width: .elevenInch, source: .community)
            let c = try await StoreFixtures.specification(store, brand: "Netgear", model: "GS724T")

            func ids(_ filter: SpecificationFilter, _ page: Page = Page()) async throws -> [Int] {
                try await store.specifications(filter: filter, page: page).map(\.id)
            }
            #expect(try await ids(SpecificationFilter(brand: "UBIQ")) == [a.id, b.id])
            #expect(try await ids(SpecificationFilter(brand: "ubiquiti", model: "pro-24")) == [a.id])
            #expect(try await ids(SpecificationFilter(widthType: .elevenInch)) == [b.id])
            #expect(try await ids(SpecificationFilter(source: .userCustom)) == [a.id, c.id])
            #expect(try await ids(SpecificationFilter(), Page(skip: 2, limit: 10)) == [c.id])
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func searchMatchesBrandOrModelIgnoringCaseWithWildcardsLiteralAndALimit(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let switchSpec = try await StoreFixtures.specification(store, brand: "Ubiquiti", model: "USW-Pro-24")
            let gateway = try await StoreFixtures.specification(store, brand: "Netgate", model: "Ubi_Box 100%")
            _ = try await StoreFixtures.specification(store, brand: "Synology", model: "RS1221+")

            #expect(try await store.searchSpecifications("ubi", limit: 50).map(\.id) == [switchSpec.id, gateway.id])
            #expect(try await store.searchSpecifications("UBI", limit: 1).map(\.id) == [switchSpec.id])
            #expect(try await store.searchSpecifications("100%", limit: 50).map(\.id) == [gateway.id])
            #expect(try await store.searchSpecifications("i_b", limit: 50).map(\.id) == [gateway.id])
            #expect(try await store.searchSpecifications("q_i", limit: 50).isEmpty)  // not "qui" in Ubiquiti
            #expect(try await store.searchSpecifications("%", limit: 50).map(\.id) == [gateway.id])
            #expect(try await store.searchSpecifications("cisco", limit: 50).isEmpty)
            #expect(
                try await store.matchSpecifications(brand: "ubiq", model: "pro", limit: 5).map(\.id) == [switchSpec.id])
            #expect(try await store.matchSpecifications(brand: "ubiq", model: "box", limit: 5).isEmpty)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aSpecificationInUseCannotBeDeletedAndItsEditMovesPlacedRacks(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let rack = try await StoreFixtures.rack(store)
            var spec = try await StoreFixtures.specification(store)
            let device = try await StoreFixtures.device(store, specification: spec)
            _ = try await store.createPosition(RackPosition(id: nil, rackID: rack.id, deviceID: device.id, startU: 1))
            let before = try await store.rack(id: rack.id).updatedAt!

            spec.powerWatts = 250
            _ = try await store.updateSpecification(spec)
            #expect(try await store.rack(id: rack.id).updatedAt! > before)

            let inUse = await #expect(throws: StoreError.conflict) { try await store.deleteSpecification(id: spec.id) }
            #expect(inUse?.detail == "Device specification \(spec.id) is used by 1 device(s)")
            try await store.deleteDevice(id: device.id)
            try await store.deleteSpecification(id: spec.id)
            await #expect(throws: StoreError.notFound) { try await store.deleteSpecification(id: spec.id) }
        }
    }
}
