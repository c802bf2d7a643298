import Backend
import Foundation
import HummingbirdTesting
import RackPlanning
import Testing

@Suite("Routes: positions")
struct PositionRouteTests {
    @Test(arguments: TestDatabases.kinds)
    func aTwoUnitDeviceFitsAtTheTopOfA42URack(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, services in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack(height: 42)
            let device = try await fixture.device("Core switch", heightU: 2)

            let response = try await fixture.place(device, in: rack, at: 41, locked: true)

            #expect(response.status == .created)
            let position = try response.decode(RackPosition.self)
            #expect(position.id != nil && position.rackID == rack.id && position.deviceID == device.id)
            #expect(position.startU == 41 && position.locked)
            #expect(position.device?.customName == "Core switch")
            #expect(position.device?.specification?.heightU == 2)
            #expect(try await fixture.layout(of: rack).map(\.startU) == [41])
        }
    }

    @Test func placementsPastTheTopUOrOutsideTheRackAre400() async throws {
        try await APITest.withAPI { api, services in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack(height: 42)
            let device = try await fixture.device(heightU: 2)

            let tooHigh = try await fixture.place(device, in: rack, at: 42)
            #expect(tooHigh.status == .badRequest)
            #expect(tooHigh.envelope["code"] as? String == "BAD_REQUEST")
            #expect(tooHigh.detailMessage.contains("would reach U43"))

            let outside = try await fixture.place(device, in: rack, at: 43)
            #expect(outside.status == .badRequest)
            #expect(outside.detailMessage.contains("outside this 42U rack"))

            // start_u outside 1-100 is a field error, before any rule.
            #expect(try await fixture.place(device, in: rack, at: 0).errorFields == ["start_u"])
            #expect(try await fixture.layout(of: rack).isEmpty)
        }
    }

    @Test func anOverlapIs409ListingTheClashingUnits() async throws {
        try await APITest.withAPI { api, services in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack()
            let server = try await fixture.device(heightU: 3)
            let switchDevice = try await fixture.device(heightU: 2)
            _ = try await fixture.placed(server, in: rack, at: 10)

            let clash = try await fixture.place(switchDevice, in: rack, at: 11)

            #expect(clash.status == .conflict)
            #expect(clash.envelope["code"] as? String == "CONFLICT")
            #expect(clash.detailMessage.contains("U11, U12"))
            #expect(clash.detailMessage.contains("device \(server.id)"))
            // Right above the server's top U (12) is free.
            #expect(try await fixture.place(switchDevice, in: rack, at: 13).status == .created)
        }
    }

    @Test func aDeviceWiderThanTheRackIs400AndANarrowerOneFits() async throws {
        try await APITest.withAPI { api, services in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack(fields: ["width_inches": "19\""])
            let wide = try await fixture.device(width: .twentyThreeInch)
            let narrow = try await fixture.device(width: .elevenInch)
            let unknown = try await fixture.device(width: nil)

            let refused = try await fixture.place(wide, in: rack, at: 1)
            #expect(refused.status == .badRequest)
            #expect(refused.detailMessage == "Device width 23\" does not fit a 19\" rack")
            #expect(try await fixture.place(narrow, in: rack, at: 1).status == .created)
            #expect(try await fixture.place(unknown, in: rack, at: 2).status == .created)
        }
    }

    @Test func placingAPlacedDeviceAgainIs409() async throws {
        try await APITest.withAPI { api, services in
            let fixture = PlacementFixture(api, services)
            let first = try await fixture.rack("A")
            let second = try await fixture.rack("B")
            let device = try await fixture.device()
            _ = try await fixture.placed(device, in: first, at: 3)

            for (rack, startU) in [(first, 20), (second, 1)] {
                let again = try await fixture.place(device, in: rack, at: startU)
                #expect(again.status == .conflict)
                #expect(again.detailMessage == "Device is already placed in rack \(first.id) at U3; move it instead")
            }
            #expect(try await fixture.layout(of: second).isEmpty)
        }
    }

    @Test func unknownRackAndDeviceAre404InRuleOrder() async throws {
        try await APITest.withAPI { api, services in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack()
            let device = try await fixture.device()

            // The rack is checked first, even when the device is unknown and would not fit.
            let noRack = try await api.post("/api/racks/999/positions", ["device_id": 998, "start_u": 99])
            #expect(noRack.status == .notFound)
            #expect(noRack.detailMessage == "Rack 999 not found")
            let noDevice = try await api.post("/api/racks/\(rack.id)/positions", ["device_id": 998, "start_u": 99])
            #expect(noDevice.status == .notFound)
            #expect(noDevice.detailMessage == "Device 998 not found")

            let missing = try await api.post("/api/racks/\(rack.id)/positions", [:])
            #expect(Set(missing.errorFields) == ["device_id", "start_u"])
            let wrongType = try await api.post(
                "/api/racks/\(rack.id)/positions", ["device_id": device.id, "start_u": "low"])
            #expect(wrongType.errorFields == ["start_u"])
        }
    }

    @Test func fractionalHeightsTruncateAndZeroUOccupiesNothing() async throws {
        try await APITest.withAPI { api, services in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack()
            let oneAndAHalf = try await fixture.device(heightU: 1.5)
            let zeroU = try await fixture.device(heightU: 0)
            let oneU = try await fixture.device(heightU: 1)
            let another = try await fixture.device(heightU: 1)

            _ = try await fixture.placed(oneAndAHalf, in: rack, at: 10)
            // 1.5U at U10 blocks U10 only, so U11 is free.
            #expect(try await fixture.place(oneU, in: rack, at: 11).status == .created)
            _ = try await fixture.placed(zeroU, in: rack, at: 20)
            // The zero-U device blocks nothing at U20.
            #expect(try await fixture.place(another, in: rack, at: 20).status == .created)
        }
    }

    @Test func catalogModelDevicesArePlacedByTheModelsSizeAndWidth() async throws {
        try await APITest.withAPI { api, services in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack(height: 42)
            let narrowRack = try await fixture.rack("Wall", height: 12, fields: ["width_inches": "11\""])
            let server = try await fixture.catalogDevice("R740")
            let neighbour = try await fixture.device()

            // The model is 19" wide: too wide for an 11" rack.
            let tooWide = try await fixture.place(server, in: narrowRack, at: 1)
            #expect(tooWide.status == .badRequest)
            #expect(tooWide.detailMessage == "Device width 19\" does not fit a 11\" rack")

            let placed = try await fixture.placed(server, in: rack, at: 41)
            #expect(placed.device?.catalogModel?.heightU == 2)
            // The model is 2U, so it holds U42 too.
            let clash = try await fixture.place(neighbour, in: rack, at: 42)
            #expect(clash.status == .conflict)
            #expect(clash.detailMessage.contains("U42"))
        }
    }

    @Test func concurrentPlacementsAtOneUnitLeaveExactlyOneWinner() async throws {
        try await APITest.withAPI { api, services in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack()
            var devices: [Device] = []
            for _ in 0..<6 { devices.append(try await fixture.device(heightU: 2)) }

            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for (index, device) in devices.enumerated() {
                    // Every other request starts one U higher, so each pair overlaps.
                    group.addTask { try await fixture.place(device, in: rack, at: 10 + index % 2).status.code }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }

            #expect(statuses.filter { $0 == 201 }.count == 1)
            #expect(statuses.filter { $0 == 409 }.count == 5)
            #expect(try await fixture.layout(of: rack).count == 1)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func updatingAPositionMovesOrLocksIt(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, services in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack()
            let server = try await fixture.device(heightU: 2)
            let position = try await fixture.placed(server, in: rack, at: 10)
            let uri = "/api/racks/\(rack.id)/positions/\(position.id!)"

            // One U up overlaps only the position's own old Us.
            let moved = try await api.put(uri, ["start_u": 11])
            #expect(moved.status == .ok)
            let afterMove = try moved.decode(RackPosition.self)
            #expect(afterMove.startU == 11 && !afterMove.locked && afterMove.device?.id == server.id)

            // Partial: locking keeps start_u; rack and device cannot be changed here.
            let locked = try await api.put(uri, ["locked": true, "rack_id": 999, "device_id": 998])
            #expect(locked.status == .ok)
            let afterLock = try locked.decode(RackPosition.self)
            #expect(afterLock.startU == 11 && afterLock.locked)
            #expect(afterLock.rackID == rack.id && afterLock.deviceID == server.id)
        }
    }

    @Test func updatingAPositionFollowsThePlacementRules() async throws {
        try await APITest.withAPI { api, services in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack(height: 42)
            let other = try await fixture.rack("Other")
            let server = try await fixture.device(heightU: 2)
            let neighbour = try await fixture.device(heightU: 1)
            let position = try await fixture.placed(server, in: rack, at: 10)
            _ = try await fixture.placed(neighbour, in: rack, at: 20)
            let uri = "/api/racks/\(rack.id)/positions/\(position.id!)"

            let clash = try await api.put(uri, ["start_u": 19])
            #expect(clash.status == .conflict)
            #expect(clash.detailMessage.contains("U20"))
            #expect(try await api.put(uri, ["start_u": 42]).status == .badRequest)
            #expect(try await api.put(uri, ["start_u": 0]).errorFields == ["start_u"])
            #expect(try await api.put(uri, ["start_u": 41]).status == .ok)

            #expect(
                try await api.put("/api/racks/\(other.id)/positions/\(position.id!)", ["locked": true]).status
                    == .notFound)
            #expect(try await api.put("/api/racks/\(rack.id)/positions/999", ["locked": true]).status == .notFound)
            #expect(try await api.put("/api/racks/999/positions/\(position.id!)", ["locked": true]).status == .notFound)
            #expect(try await fixture.layout(of: rack).map(\.startU) == [20, 41])
        }
    }

    @Test func deletingAPositionIs204AndOnlyInItsRack() async throws {
        try await APITest.withAPI { api, services in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack()
            let other = try await fixture.rack("Other")
            let device = try await fixture.device()
            let position = try await fixture.placed(device, in: rack, at: 5)

            let wrongRack = try await api.delete("/api/racks/\(other.id)/positions/\(position.id!)")
            #expect(wrongRack.status == .notFound)
            #expect(try await fixture.layout(of: rack).count == 1)

            #expect(try await api.delete("/api/racks/\(rack.id)/positions/\(position.id!)").status == .noContent)
            #expect(try await fixture.layout(of: rack).isEmpty)
            #expect(try await api.delete("/api/racks/\(rack.id)/positions/\(position.id!)").status == .notFound)
            // The device stays and can be placed again.
            #expect(try await fixture.place(device, in: other, at: 1).status == .created)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func movingADeviceBetweenRacksKeepsItsLock(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, services in
            let fixture = PlacementFixture(api, services)
            let from = try await fixture.rack("From")
            let to = try await fixture.rack("To")
            let device = try await fixture.device(heightU: 2)
            let before = try await fixture.placed(device, in: from, at: 5, locked: true)

            let response = try await api.post("/api/devices/\(device.id)/move", ["rack_id": to.id, "start_unit": 30])

            #expect(response.status == .ok)
            let moved = try response.decode(RackPosition.self)
            #expect(moved.id == before.id && moved.rackID == to.id && moved.startU == 30 && moved.locked)
            #expect(try await fixture.layout(of: from).isEmpty)
            #expect(try await fixture.layout(of: to).map(\.startU) == [30])
        }
    }

    @Test func movingAnUnplacedDevicePlacesItAndAMoveMayOverlapItsOwnOldUnits() async throws {
        try await APITest.withAPI { api, services in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack()
            let device = try await fixture.device(heightU: 3)

            let placed = try await api.post("/api/devices/\(device.id)/move", ["rack_id": rack.id, "start_unit": 10])
            #expect(placed.status == .ok)
            #expect(try placed.decode(RackPosition.self).locked == false)
            let shifted = try await api.post("/api/devices/\(device.id)/move", ["rack_id": rack.id, "start_unit": 11])
            #expect(shifted.status == .ok)
            #expect(try await fixture.layout(of: rack).map(\.startU) == [11])
        }
    }

    @Test func aMoveFollowsThePlacementRules() async throws {
        try await APITest.withAPI { api, services in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack(height: 42)
            let narrow = try await fixture.rack("Narrow", height: 12, fields: ["width_inches": "11\""])
            let device = try await fixture.device(heightU: 2)
            let blocker = try await fixture.device(heightU: 1)
            _ = try await fixture.placed(device, in: rack, at: 1)
            _ = try await fixture.placed(blocker, in: rack, at: 20)
            func move(_ id: Int, _ body: [String: any Sendable]) async throws -> TestResponse {
                try await api.post("/api/devices/\(id)/move", body)
            }

            let clash = try await move(device.id, ["rack_id": rack.id, "start_unit": 19])
            #expect(clash.status == .conflict)
            #expect(clash.detailMessage.contains("U20"))
            #expect(try await move(device.id, ["rack_id": rack.id, "start_unit": 42]).status == .badRequest)
            #expect(try await move(device.id, ["rack_id": narrow.id, "start_unit": 1]).status == .badRequest)
            #expect(try await move(device.id, ["rack_id": 999, "start_unit": 1]).detailMessage == "Rack 999 not found")
            #expect(try await move(998, ["rack_id": rack.id, "start_unit": 1]).detailMessage == "Device 998 not found")
            #expect(try await move(998, ["rack_id": rack.id, "start_unit": 1]).status == .notFound)
            #expect(try await move(device.id, ["rack_id": rack.id]).errorFields == ["start_unit"])
            #expect(try await move(device.id, ["rack_id": rack.id, "start_unit": 0]).errorFields == ["start_unit"])
            #expect(try await fixture.layout(of: rack).map(\.startU) == [1, 20])
        }
    }
}
