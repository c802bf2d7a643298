import Backend
import Foundation
import RackPlanning
import Synchronization
import Testing

@Suite("Database: copying SQLite into PostgreSQL", .enabled(if: TestDatabases.postgresRequired))
struct DatabaseCopyTests {
    /// Everything a store reads back, for comparing two databases.
    struct Snapshot: Equatable {
        var racks: [Rack]
        var layouts: [RackLayout]
        var specifications: [DeviceSpecification]
        var deviceTypes: [DeviceType]
        var brands: [Brand]
        var models: [CatalogModel]
        var devices: [Device]
        var connections: [Connection]

        init(_ store: SQLRackStore) async throws {
            racks = try await store.racks(page: .all)
            var layouts: [RackLayout] = []
            for rack in racks { layouts.append(try await store.layout(rackID: rack.id)) }
            self.layouts = layouts
            specifications = try await store.specifications(filter: SpecificationFilter(), page: .all)
            deviceTypes = try await store.deviceTypes(page: .all)
            brands = try await store.brands(filter: BrandFilter(), page: .all)
            models = try await store.models(filter: ModelFilter(), page: .all)
            devices = try await store.devices(filter: DeviceFilter(), page: .all)
            connections = try await store.connections(filter: ConnectionFilter(), page: .all)
        }
    }

    /// A database with every kind of record, and gaps in the ids (deleted rows).
    static func populate(_ store: SQLRackStore) async throws {
        let rack = try await StoreFixtures.rack(store, name: "Main")
        let spare = try await StoreFixtures.rack(store, name: "Spare", height: 12)
        try await store.deleteRack(id: try await StoreFixtures.rack(store, name: "Gone").id)
        let switchSpec = try await StoreFixtures.specification(store)
        let ups = try await StoreFixtures.specification(
            store, brand: "APC", model: "SMT1500", variant: "2U", heightU: 2, powerWatts: nil, width: nil)
        let (brand, type, model) = try await StoreFixtures.catalog(store)
        _ = try await store.createModel(
            CatalogModel(id: 0, brandID: brand.id, deviceTypeID: type.id, name: "Spare model"))
        let switchDevice = try await StoreFixtures.device(store, specification: switchSpec, name: "core", access: .high)
        let upsDevice = try await StoreFixtures.device(store, specification: ups)
        let server = try await store.createDevice(Device(id: 0, customName: "db", modelID: model.id, notes: "prod"))
        try await store.deleteDevice(id: try await StoreFixtures.device(store, specification: ups).id)
        _ = try await store.createPosition(RackPosition(id: nil, rackID: rack.id, deviceID: upsDevice.id, startU: 1))
        _ = try await store.createPosition(
            RackPosition(id: nil, rackID: rack.id, deviceID: switchDevice.id, startU: 40, locked: true))
        _ = try await store.createPosition(RackPosition(id: nil, rackID: spare.id, deviceID: server.id, startU: 3))
        _ = try await store.createConnection(
            Connection(
                id: 0, fromDeviceID: switchDevice.id, toDeviceID: server.id, fromPort: "1", cableType: .cat6a,
                cableLengthM: 3.5, routingPath: .conduit, notes: "uplink"))
        _ = try await store.createConnection(
            Connection(id: 0, fromDeviceID: upsDevice.id, toDeviceID: switchDevice.id, cableType: .power))
    }

    @Test func aCopyKeepsEveryRecordAndIdAndNewRowsContinueAfterThem() async throws {
        try await TestDatabases.withSQLite { sqlite in
            let source = SQLRackStore(database: sqlite, clock: TestClock().now)
            try await Self.populate(source)
            let expected = try await Snapshot(source)
            let progress = Mutex<[DatabaseCopy.Progress]>([])

            try await TestDatabases.withPostgres(migrated: false) { postgres in
                let report = try await DatabaseCopy.copy(from: sqlite, to: postgres, batchSize: 2) { step in
                    progress.withLock { $0.append(step) }
                }

                let target = SQLRackStore(database: postgres)
                #expect(try await Snapshot(target) == expected)
                #expect(
                    report.tables.map(\.table) == [
                        "racks", "device_specifications", "device_types", "brands", "models", "devices",
                        "rack_positions",
                        "connections",
                    ])
                #expect(report.tables.map(\.rows) == [2, 2, 1, 1, 2, 3, 3, 2])
                let finals = progress.withLock { steps in
                    Dictionary(steps.map { ($0.table, $0.copiedRows) }, uniquingKeysWith: max)
                }
                #expect(finals["devices"] == 3 && finals["racks"] == 2)
                #expect(progress.withLock { $0.contains { $0.table == "devices" && $0.copiedRows == 2 } })

                let newRack = try await StoreFixtures.rack(target, name: "After copy")
                #expect(newRack.id == 4)  // past the copied 1, 2 and the deleted 3
                let newDevice = try await StoreFixtures.device(target, specification: expected.specifications[0])
                #expect(newDevice.id == 5)

                // And back into a fresh SQLite file: the same records again.
                try await TestDatabases.withSQLite(migrated: false) { copyBack in
                    _ = try await DatabaseCopy.copy(from: postgres as any Database, to: copyBack as any Database)
                    let roundTrip = try await Snapshot(SQLRackStore(database: copyBack))
                    #expect(roundTrip.devices.count == 4)
                    #expect(Array(roundTrip.racks.prefix(2)) == expected.racks)
                    #expect(Array(roundTrip.layouts.prefix(2)) == expected.layouts)
                    #expect(roundTrip.connections == expected.connections)
                }
            }
        }
    }

    @Test func aTargetHoldingDataIsRefusedAndLeftAlone() async throws {
        try await TestDatabases.withSQLite { sqlite in
            try await Self.populate(SQLRackStore(database: sqlite))
            try await TestDatabases.withPostgres { postgres in
                let target = SQLRackStore(database: postgres)
                let existing = try await StoreFixtures.rack(target, name: "Already here")

                let error = await #expect(throws: StoreError.conflict) {
                    try await DatabaseCopy.copy(from: sqlite, to: postgres)
                }
                #expect(error?.detail == "The target database already holds data (1 rows in racks)")
                #expect(try await target.racks(page: .all) == [existing])
                #expect(try await target.devices(filter: DeviceFilter(), page: .all).isEmpty)
            }
        }
    }
}
