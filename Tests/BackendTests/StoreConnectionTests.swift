import Backend
import RackPlanning
import Testing

@Suite("Store: connections")
struct StoreConnectionTests {
    @Test(arguments: TestDatabases.kinds)
    func aConnectionPersistsLengthAndNotesAndEmbedsBothDevices(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let spec = try await StoreFixtures.specification(store)
            let a = try await StoreFixtures.device(store, specification: spec, name: "a")
            let b = try await StoreFixtures.device(store, specification: spec, name: "b")

            let created = try await store.createConnection(
                Connection(
                    id: 0, fromDeviceID: a.id, toDeviceID: b.id, fromPort: "eth0", toPort: "port 1",
                    cableType: .fiberMultiMode, cableLengthM: 2.35, routingPath: .cableTray, notes: "blue"))

            #expect(created.cableLengthM == 2.35 && created.notes == "blue")
            #expect(created.cableType == .fiberMultiMode && created.routingPath == .cableTray)
            #expect(created.fromDevice?.customName == "a" && created.toDevice?.customName == "b")
            #expect(created.fromDevice?.specification == spec)
            #expect(try await store.connection(id: created.id) == created)

            var changed = created
            changed.cableLengthM = nil
            changed.toPort = nil
            let updated = try await store.updateConnection(changed)
            #expect(updated.cableLengthM == nil && updated.toPort == nil && updated.notes == "blue")

            try await store.deleteConnection(id: created.id)
            await #expect(throws: StoreError.notFound) { try await store.deleteConnection(id: created.id) }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aSelfLinkIsInvalidAndAnUnknownEndIsAnInvalidReference(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let spec = try await StoreFixtures.specification(store)
            let a = try await StoreFixtures.device(store, specification: spec)

            let selfLink = await #expect(throws: StoreError.invalidValue) {
                try await store.createConnection(Connection(id: 0, fromDeviceID: a.id, toDeviceID: a.id))
            }
            #expect(selfLink?.detail == "A connection must join two different devices")
            let unknown = await #expect(throws: StoreError.invalidReference) {
                try await store.createConnection(Connection(id: 0, fromDeviceID: a.id, toDeviceID: 999))
            }
            #expect(unknown?.detail == "Device 999 not found")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func filtersByRackWhereEitherEndIsPlacedAndByEnds(kind: StoreKind) async throws {
        try await TestDatabases.withStore(kind) { store in
            let rack = try await StoreFixtures.rack(store, name: "A")
            let other = try await StoreFixtures.rack(store, name: "B")
            let spec = try await StoreFixtures.specification(store)
            var devices: [Device] = []
            for _ in 0..<4 { devices.append(try await StoreFixtures.device(store, specification: spec)) }
            _ = try await store.createPosition(
                RackPosition(id: nil, rackID: rack.id, deviceID: devices[0].id, startU: 1))
            _ = try await store.createPosition(
                RackPosition(id: nil, rackID: other.id, deviceID: devices[2].id, startU: 1))
            let intoRack = try await store.createConnection(
                Connection(id: 0, fromDeviceID: devices[1].id, toDeviceID: devices[0].id))
            let outOfRack = try await store.createConnection(
                Connection(id: 0, fromDeviceID: devices[0].id, toDeviceID: devices[2].id))
            let elsewhere = try await store.createConnection(
                Connection(id: 0, fromDeviceID: devices[3].id, toDeviceID: devices[1].id))

            func ids(_ filter: ConnectionFilter, _ page: Page = Page()) async throws -> [Int] {
                try await store.connections(filter: filter, page: page).map(\.id)
            }
            #expect(try await ids(ConnectionFilter(rackID: rack.id)) == [intoRack.id, outOfRack.id])
            #expect(try await ids(ConnectionFilter(rackID: other.id)) == [outOfRack.id])
            #expect(try await ids(ConnectionFilter(fromDeviceID: devices[0].id)) == [outOfRack.id])
            #expect(try await ids(ConnectionFilter(toDeviceID: devices[1].id)) == [elsewhere.id])
            #expect(try await ids(ConnectionFilter(rackID: rack.id, toDeviceID: devices[2].id)) == [outOfRack.id])
            #expect(try await ids(ConnectionFilter(), Page(skip: 1, limit: 1)) == [outOfRack.id])
            #expect(try await ids(ConnectionFilter(), Page.all).count == 3)
        }
    }
}
