import Backend
import RackPlanning
import Testing

@Suite("Store: positions")
struct StorePositionTests {
    @Test(arguments: TestDatabases.kinds)
    func placingADeviceEmbedsItAndMovesTheRacksUpdatedAt(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let rack = try await StoreFixtures.rack(store)
            let spec = try await StoreFixtures.specification(store)
            let device = try await StoreFixtures.device(store, specification: spec)

            let position = try await store.createPosition(
                RackPosition(id: nil, rackID: rack.id, deviceID: device.id, startU: 5, locked: true))

            #expect(position.id != nil)
            #expect(position.startU == 5 && position.locked)
            #expect(position.device?.specification?.model == "USW-Pro-24")
            #expect(try await store.position(deviceID: device.id)?.id == position.id)
            #expect(try await store.rack(id: rack.id).updatedAt! > rack.updatedAt!)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func placingAPlacedDeviceAgainIsAConflictNamingWhereItIs(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let first = try await StoreFixtures.rack(store, name: "A")
            let second = try await StoreFixtures.rack(store, name: "B")
            let spec = try await StoreFixtures.specification(store)
            let device = try await StoreFixtures.device(store, specification: spec)
            _ = try await store.createPosition(RackPosition(id: nil, rackID: first.id, deviceID: device.id, startU: 3))

            let error = await #expect(throws: StoreError.conflict) {
                try await store.createPosition(RackPosition(id: nil, rackID: second.id, deviceID: device.id, startU: 1))
            }
            #expect(error?.detail == "Device \(device.id) is already placed in rack \(first.id) at U3")
            #expect(try await store.layout(rackID: second.id).positions.isEmpty)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func placingIntoAnUnknownRackOrWithAnUnknownDeviceIsAnInvalidReference(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let rack = try await StoreFixtures.rack(store)
            let spec = try await StoreFixtures.specification(store)
            let device = try await StoreFixtures.device(store, specification: spec)

            let noRack = await #expect(throws: StoreError.invalidReference) {
                try await store.createPosition(RackPosition(id: nil, rackID: 999, deviceID: device.id, startU: 1))
            }
            #expect(noRack?.detail == "Rack 999 not found")
            let noDevice = await #expect(throws: StoreError.invalidReference) {
                try await store.createPosition(RackPosition(id: nil, rackID: rack.id, deviceID: 998, startU: 1))
            }
            #expect(noDevice?.detail == "Device 998 not found")
            await #expect(throws: StoreError.invalidValue) {
                try await store.createPosition(RackPosition(id: nil, rackID: rack.id, deviceID: device.id, startU: 0))
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func movingAPositionToAnotherRackUpdatesBothRacks(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let from = try await StoreFixtures.rack(store, name: "From")
            let to = try await StoreFixtures.rack(store, name: "To")
            let spec = try await StoreFixtures.specification(store)
            let device = try await StoreFixtures.device(store, specification: spec)
            var position = try await store.createPosition(
                RackPosition(id: nil, rackID: from.id, deviceID: device.id, startU: 1))
            let fromBefore = try await store.rack(id: from.id).updatedAt!

            position.rackID = to.id
            position.startU = 20
            position.locked = true
            let moved = try await store.updatePosition(position)

            #expect(moved.rackID == to.id && moved.startU == 20 && moved.locked)
            #expect(try await store.layout(rackID: from.id).positions.isEmpty)
            #expect(try await store.layout(rackID: to.id).positions.map(\.deviceID) == [device.id])
            #expect(try await store.rack(id: from.id).updatedAt! > fromBefore)
            #expect(try await store.rack(id: to.id).updatedAt! > to.updatedAt!)

            position.id = 999
            await #expect(throws: StoreError.notFound) { try await store.updatePosition(position) }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func removingAPositionNeedsTheRackItIsIn(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let rack = try await StoreFixtures.rack(store, name: "A")
            let other = try await StoreFixtures.rack(store, name: "B")
            let spec = try await StoreFixtures.specification(store)
            let device = try await StoreFixtures.device(store, specification: spec)
            let position = try await store.createPosition(
                RackPosition(id: nil, rackID: rack.id, deviceID: device.id, startU: 1))

            let error = await #expect(throws: StoreError.notFound) {
                try await store.deletePosition(id: position.id!, rackID: other.id)
            }
            #expect(error?.detail == "Position \(position.id!) not found in rack \(other.id)")
            try await store.deletePosition(id: position.id!, rackID: rack.id)
            #expect(try await store.position(deviceID: device.id) == nil)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aFailedTransactionLeavesNoPosition(kind: StoreKind) async throws {
        struct Abort: Error {}
        try await TestDatabases.withStore(kind) { store in
            let rack = try await StoreFixtures.rack(store)
            let spec = try await StoreFixtures.specification(store)
            let device = try await StoreFixtures.device(store, specification: spec)

            await #expect(throws: Abort.self) {
                try await store.transaction { repository in
                    _ = try await repository.lockRack(id: rack.id)
                    _ = try await repository.createPosition(
                        RackPosition(id: nil, rackID: rack.id, deviceID: device.id, startU: 1))
                    #expect(try await repository.layout(rackID: rack.id).positions.count == 1)
                    throw Abort()
                }
            }

            #expect(try await store.layout(rackID: rack.id).positions.isEmpty)
            #expect(try await store.rack(id: rack.id).updatedAt == rack.updatedAt)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aConflictInsideATransactionRollsBackOnlyItsSavepoint(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let rack = try await StoreFixtures.rack(store)
            let spec = try await StoreFixtures.specification(store)
            let device = try await StoreFixtures.device(store, specification: spec)
            let other = try await StoreFixtures.device(store, specification: spec)

            try await store.transaction { repository in
                _ = try await repository.createPosition(
                    RackPosition(id: nil, rackID: rack.id, deviceID: device.id, startU: 1))
                await #expect(throws: StoreError.conflict) {
                    try await repository.createPosition(
                        RackPosition(id: nil, rackID: rack.id, deviceID: device.id, startU: 5))
                }
                _ = try await repository.createPosition(
                    RackPosition(id: nil, rackID: rack.id, deviceID: other.id, startU: 9))
            }

            #expect(try await store.layout(rackID: rack.id).positions.map(\.startU) == [1, 9])
        }
    }
}
