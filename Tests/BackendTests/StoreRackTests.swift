import Backend
import Foundation
import RackPlanning
import Testing

@Suite("Store: racks and layouts")
struct StoreRackTests {
    @Test(arguments: TestDatabases.kinds)
    func createsReadsUpdatesAndDeletesARack(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let created = try await store.createRack(
                Rack(
                    id: 0, name: "Lab", location: "Basement", totalHeightU: 24, widthInches: .twentyThreeInch,
                    depthMM: 800, coolingCapacityBTU: nil, airflowCFM: 350))
            #expect(created.id > 0)
            #expect(created.createdAt != nil && created.createdAt == created.updatedAt)

            let read = try await store.rack(id: created.id)
            #expect(read == created)
            #expect(read.widthInches == .twentyThreeInch)
            #expect(read.coolingCapacityBTU == nil)
            #expect(read.airflowCFM == 350)

            var changed = read
            changed.name = "Lab 2"
            changed.maxPowerWatts = 7500.5
            let updated = try await store.updateRack(changed)
            #expect(updated.name == "Lab 2")
            #expect(updated.maxPowerWatts == 7500.5)
            #expect(updated.createdAt == created.createdAt)
            #expect(updated.updatedAt! > created.updatedAt!)

            try await store.deleteRack(id: created.id)
            await #expect(throws: StoreError.notFound) { try await store.rack(id: created.id) }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func unknownRacksAreNotFound(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let error = await #expect(throws: StoreError.notFound) { try await store.rack(id: 999) }
            #expect(error?.detail == "Rack 999 not found")
            await #expect(throws: StoreError.notFound) {
                try await store.updateRack(Rack(id: 999, name: "Ghost"))
            }
            await #expect(throws: StoreError.notFound) { try await store.deleteRack(id: 999) }
            await #expect(throws: StoreError.notFound) { try await store.layout(rackID: 999) }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func listsRacksPagedBySkipAndLimit(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            for index in 1...5 { _ = try await StoreFixtures.rack(store, name: "Rack \(index)") }
            let all = try await store.racks(page: Page())
            #expect(all.map(\.name) == (1...5).map { "Rack \($0)" })
            let middle = try await store.racks(page: Page(skip: 1, limit: 2))
            #expect(middle.map(\.name) == ["Rack 2", "Rack 3"])
            let past = try await store.racks(page: Page(skip: 10, limit: 2))
            #expect(past.isEmpty)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func deletingARackRemovesItsPositionsButKeepsTheDevices(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let rack = try await StoreFixtures.rack(store)
            let spec = try await StoreFixtures.specification(store)
            let device = try await StoreFixtures.device(store, specification: spec)
            let position = try await store.createPosition(
                RackPosition(id: nil, rackID: rack.id, deviceID: device.id, startU: 1))

            try await store.deleteRack(id: rack.id)

            await #expect(throws: StoreError.notFound) { try await store.position(id: position.id!) }
            #expect(try await store.position(deviceID: device.id) == nil)
            #expect(try await store.device(id: device.id).id == device.id)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func layoutEmbedsDevicesWithTheirSpecificationOrModelInStartOrder(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let rack = try await StoreFixtures.rack(store)
            let spec = try await StoreFixtures.specification(store, heightU: 1, powerWatts: 100)
            let (_, _, model) = try await StoreFixtures.catalog(store)
            let switchDevice = try await StoreFixtures.device(store, specification: spec, name: "core switch")
            let server = try await store.createDevice(Device(id: 0, customName: "db", modelID: model.id))
            _ = try await store.createPosition(RackPosition(id: nil, rackID: rack.id, deviceID: server.id, startU: 10))
            _ = try await store.createPosition(
                RackPosition(id: nil, rackID: rack.id, deviceID: switchDevice.id, startU: 2, locked: true))

            let layout = try await store.layout(rackID: rack.id)

            #expect(layout.rack.id == rack.id)
            #expect(layout.positions.map(\.startU) == [2, 10])
            #expect(layout.positions[0].locked)
            #expect(layout.positions[0].device?.specification == spec)
            #expect(layout.positions[1].device?.catalogModel?.name == "PowerEdge R740")
            #expect(layout.positions[1].device?.catalogModel?.brand?.name == "Dell")
            // 1U + 2U of 42U; 100 W + 495 W: the catalog model's physical data counts.
            #expect(layout.utilizationPercent == 7.14)
            #expect(layout.totalPowerWatts == 595)
        }
    }

    /// The layout is one statement (LayoutQuery); it must read exactly what the records read one
    /// by one do, down to the encoded bytes: specifications with and without ports, catalog
    /// models with their brand, type and device count, a locked position, positions inserted out
    /// of order, and another rack's and unplaced devices that must not appear.
    @Test(arguments: TestDatabases.kinds)
    func layoutReadsTheSameBytesAsItsRecordsReadOneByOne(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let rack = try await StoreFixtures.rack(store, name: "Populated")
            let other = try await StoreFixtures.rack(store, name: "Other")
            let empty = try await StoreFixtures.rack(store, name: "Empty")
            let switchSpec = try await StoreFixtures.specification(store, heightU: 1, powerWatts: 120.5)
            let bareSpec = try await store.createSpecification(
                DeviceSpecification(id: 0, brand: "Generic", model: "Shelf", heightU: 2))
            let (brand, type, model) = try await StoreFixtures.catalog(store)
            var branded = brand
            branded.logoURL = "/uploads/logos/dell.png"
            _ = try await store.updateBrand(branded)
            let storage = try await store.createModel(
                CatalogModel(
                    id: 0, brandID: brand.id, deviceTypeID: type.id, name: "PowerVault", variant: "ME5",
                    heightU: 2, depthMM: 600, weightKG: 30, powerWatts: 800.25, typicalPorts: ["SAS": 4]))
            var placed: [Int] = []
            for (index, start) in [30, 4, 12, 1, 20].enumerated() {
                let device: Device
                switch index % 3 {
                case 0:
                    device = try await StoreFixtures.device(
                        store, specification: index == 3 ? bareSpec : switchSpec, name: "spec \(index)",
                        access: .high)
                case 1:
                    device = try await store.createDevice(
                        Device(id: 0, customName: nil, modelID: model.id, serialNumber: "SN\(index)", notes: "n"))
                default:
                    device = try await store.createDevice(Device(id: 0, customName: "array", modelID: storage.id))
                }
                _ = try await store.createPosition(
                    RackPosition(id: nil, rackID: rack.id, deviceID: device.id, startU: start, locked: index == 2))
                placed.append(device.id)
            }
            let elsewhere = try await store.createDevice(Device(id: 0, customName: "elsewhere", modelID: model.id))
            _ = try await store.createPosition(
                RackPosition(id: nil, rackID: other.id, deviceID: elsewhere.id, startU: 1))
            _ = try await store.createDevice(Device(id: 0, customName: "spare", modelID: model.id))

            var positions: [RackPosition] = []
            for id in placed {
                positions.append(try #require(try await store.position(deviceID: id)))
            }
            positions.sort { ($0.startU, $0.id ?? 0) < ($1.startU, $1.id ?? 0) }
            let expected = RackLayout(rack: try await store.rack(id: rack.id), positions: positions)
            let layout = try await store.layout(rackID: rack.id)

            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            #expect(layout == expected)
            #expect(try encoder.encode(layout) == encoder.encode(expected))
            let deviceCounts = layout.positions.compactMap { $0.device?.catalogModel?.deviceCount }
            #expect(deviceCounts.contains(4))
            #expect(layout.positions.count == 5)

            let emptyLayout = try await store.layout(rackID: empty.id)
            #expect(
                try encoder.encode(emptyLayout)
                    == encoder.encode(RackLayout(rack: try await store.rack(id: empty.id), positions: [])))
        }
    }
}
