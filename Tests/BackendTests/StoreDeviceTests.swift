import Backend
import RackPlanning
import Testing

@Suite("Store: devices")
struct StoreDeviceTests {
    @Test(arguments: TestDatabases.kinds)
    func aDeviceEmbedsItsSpecificationOrCatalogModel(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let spec = try await StoreFixtures.specification(store)
            let (_, _, model) = try await StoreFixtures.catalog(store)

            let fromSpec = try await store.createDevice(
                Device(
                    id: 0, customName: "sw1", specificationID: spec.id, serialNumber: "SN-1", accessFrequency: .high,
                    notes: "top of rack"))
            let fromModel = try await store.createDevice(Device(id: 0, modelID: model.id))

            #expect(fromSpec.specification == spec)
            #expect(fromSpec.catalogModel == nil)
            #expect(fromSpec.serialNumber == "SN-1" && fromSpec.accessFrequency == .high)
            #expect(fromSpec.notes == "top of rack")
            #expect(fromModel.customName == nil)
            #expect(fromModel.catalogModel?.id == model.id)
            #expect(fromModel.catalogModel?.deviceCount == 1)
            #expect(fromModel.physicalProfile?.heightU == 2)
            #expect(fromModel.physicalProfile?.airflow == .frontToBack)
            #expect(try await store.device(id: fromSpec.id) == fromSpec)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anUnknownReferenceIsAnInvalidReferenceAndBothOrNeitherIsInvalid(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let spec = try await StoreFixtures.specification(store)
            let (_, _, model) = try await StoreFixtures.catalog(store)

            let noSpec = await #expect(throws: StoreError.invalidReference) {
                try await store.createDevice(Device(id: 0, specificationID: 999))
            }
            #expect(noSpec?.detail == "Device specification 999 not found")
            let noModel = await #expect(throws: StoreError.invalidReference) {
                try await store.createDevice(Device(id: 0, modelID: 998))
            }
            #expect(noModel?.detail == "Model 998 not found")
            let both = await #expect(throws: StoreError.invalidValue) {
                try await store.createDevice(Device(id: 0, specificationID: spec.id, modelID: model.id))
            }
            #expect(both?.detail == "A device must reference exactly one of specification_id or model_id")
            await #expect(throws: StoreError.invalidValue) { try await store.createDevice(Device(id: 0)) }
            #expect(try await store.devices(filter: DeviceFilter(), page: Page()).isEmpty)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func filtersBySpecificationAndAccessFrequencyWithPaging(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let a = try await StoreFixtures.specification(store, model: "A")
            let b = try await StoreFixtures.specification(store, model: "B")
            var ids: [Int] = []
            for (spec, access) in [(a, AccessFrequency.high), (a, .low), (b, .high), (a, .high)] {
                ids.append(try await StoreFixtures.device(store, specification: spec, access: access).id)
            }

            let ofA = try await store.devices(filter: DeviceFilter(specificationID: a.id), page: Page())
            #expect(ofA.map(\.id) == [ids[0], ids[1], ids[3]])
            let high = try await store.devices(filter: DeviceFilter(accessFrequency: .high), page: Page())
            #expect(high.map(\.id) == [ids[0], ids[2], ids[3]])
            let both = try await store.devices(
                filter: DeviceFilter(specificationID: a.id, accessFrequency: .high), page: Page(skip: 1, limit: 5))
            #expect(both.map(\.id) == [ids[3]])
            #expect(try await store.devices(ids: [ids[3], ids[0], 999]).map(\.id) == [ids[0], ids[3]])
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func bulkCreationIsAllOrNothing(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let spec = try await StoreFixtures.specification(store)
            let good = (1...3).map { Device(id: 0, customName: "node-\($0)", specificationID: spec.id) }

            let created = try await store.createDevices(good)
            #expect(created.map(\.customName) == ["node-1", "node-2", "node-3"])

            await #expect(throws: StoreError.invalidReference) {
                try await store.createDevices(good + [Device(id: 0, specificationID: 999)])
            }
            #expect(try await store.devices(filter: DeviceFilter(), page: Page()).count == 3)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func updatingAPlacedDeviceMovesItsRacksUpdatedAt(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let rack = try await StoreFixtures.rack(store)
            let spec = try await StoreFixtures.specification(store)
            let other = try await StoreFixtures.specification(store, model: "Other", powerWatts: 300)
            var device = try await StoreFixtures.device(store, specification: spec)
            _ = try await store.createPosition(RackPosition(id: nil, rackID: rack.id, deviceID: device.id, startU: 1))
            let before = try await store.rack(id: rack.id).updatedAt!

            device.specificationID = other.id
            device.customName = "renamed"
            let updated = try await store.updateDevice(device)

            #expect(updated.customName == "renamed")
            #expect(updated.specification?.model == "Other")
            #expect(try await store.rack(id: rack.id).updatedAt! > before)
            #expect(try await store.layout(rackID: rack.id).totalPowerWatts == 300)
            device.id = 999
            await #expect(throws: StoreError.notFound) { try await store.updateDevice(device) }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func deletingADeviceRemovesItsPositionAndItsConnections(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let rack = try await StoreFixtures.rack(store)
            let spec = try await StoreFixtures.specification(store)
            let doomed = try await StoreFixtures.device(store, specification: spec)
            let peer = try await StoreFixtures.device(store, specification: spec)
            let third = try await StoreFixtures.device(store, specification: spec)
            _ = try await store.createPosition(RackPosition(id: nil, rackID: rack.id, deviceID: doomed.id, startU: 1))
            let outgoing = try await store.createConnection(
                Connection(id: 0, fromDeviceID: doomed.id, toDeviceID: peer.id))
            let incoming = try await store.createConnection(
                Connection(id: 0, fromDeviceID: peer.id, toDeviceID: doomed.id))
            let unrelated = try await store.createConnection(
                Connection(id: 0, fromDeviceID: peer.id, toDeviceID: third.id))
            let before = try await store.rack(id: rack.id).updatedAt!

            try await store.deleteDevice(id: doomed.id)

            #expect(try await store.layout(rackID: rack.id).positions.isEmpty)
            await #expect(throws: StoreError.notFound) { try await store.connection(id: outgoing.id) }
            await #expect(throws: StoreError.notFound) { try await store.connection(id: incoming.id) }
            #expect(try await store.connection(id: unrelated.id).id == unrelated.id)
            #expect(try await store.rack(id: rack.id).updatedAt! > before)
            await #expect(throws: StoreError.notFound) { try await store.deleteDevice(id: doomed.id) }
        }
    }
}
