@testable import Backend
import Foundation
import RackPlanning
import Testing

/// Positions for the pure cable rules: 1U devices 300 mm deep at `startU` in `rackID`.
private func placed(_ deviceID: Int, at startU: Int, rack rackID: Int = 1) -> RackPosition {
    let spec = DeviceSpecification(id: 1, brand: "Acme", model: "1U", heightU: 1, depthMM: 300)
    return RackPosition(id: deviceID, rackID: rackID, device: Device(id: deviceID, specification: spec), startU: startU)
}

@Suite("Services: service loop")
struct ServiceLoopTests {
    @Test(arguments: [
        (0.0, 0.5), (0.4, 0.5), (0.5, 0.5), (0.51, 1), (1.17, 1.5), (2.01, 3), (4.3, 5), (50, 50),
        (50.01, 60), (123, 130),
    ])
    func roundsUpToTheNextPurchasableLength(needed: Double, bought: Double) {
        #expect(ServiceLoop.purchasableLength(needed) == bought)
    }

    @Test func estimatesTheRouteAndAddsSlackAtBothRackEnds() {
        let connection = Connection(id: 7, fromDeviceID: 1, toDeviceID: 2)
        let loop = ServiceLoop(connection, from: placed(1, at: 1), to: placed(2, at: 5))
        // (4 × 0.04445 + 0.3) × 1.2 = 0.57; + 2 × 0.3 = 1.17 → 1.5 m.
        #expect(loop.connectionID == 7 && loop.cableType == .cat6)
        #expect(loop.lengthSource == .estimated && loop.routedLengthM == 0.57)
        #expect(loop.rackMountedEnds == 2 && loop.slackPerEndM == 0.3 && loop.serviceLoopM == 0.6)
        #expect(loop.totalLengthM == 1.17 && loop.purchaseLengthM == 1.5)
    }

    @Test func aRecordedLengthWithOneRackEndGetsOneLoop() {
        let connection = Connection(id: 1, fromDeviceID: 1, toDeviceID: 2, cableType: .fiberSingleMode, cableLengthM: 4)
        let loop = ServiceLoop(connection, from: nil, to: placed(2, at: 10))
        #expect(loop.lengthSource == .recorded && loop.routedLengthM == 4)
        #expect(loop.rackMountedEnds == 1 && loop.serviceLoopM == 0.3)
        #expect(loop.totalLengthM == 4.3 && loop.purchaseLengthM == 5)
    }

    @Test func anUnknownRouteLeavesTheLengthsNull() throws {
        let connection = Connection(id: 1, fromDeviceID: 1, toDeviceID: 2)
        let loop = ServiceLoop(connection, from: placed(1, at: 1, rack: 1), to: placed(2, at: 1, rack: 2))
        #expect(loop.lengthSource == .unknown && loop.routedLengthM == nil)
        #expect(loop.serviceLoopM == 0.6 && loop.totalLengthM == nil && loop.purchaseLengthM == nil)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(loop)) as? [String: Any]
        #expect(json?["total_length_m"] is NSNull && json?["purchase_length_m"] is NSNull)
        #expect(json?["length_source"] as? String == "unknown")
    }
}

@Suite("Services: connection length rule")
struct ConnectionLengthRuleTests {
    let from = placed(1, at: 1)
    let to = placed(2, at: 5)

    @Test func createKeepsAGivenLengthElseEstimatesWithinOneRack() {
        let given = Connection(id: 0, fromDeviceID: 1, toDeviceID: 2, cableLengthM: 3)
        #expect(ConnectionLengthRule.forCreate(given, from: from, to: to) == 3)
        let bare = Connection(id: 0, fromDeviceID: 1, toDeviceID: 2)
        #expect(ConnectionLengthRule.forCreate(bare, from: from, to: to) == 0.57)
        #expect(ConnectionLengthRule.forCreate(bare, from: from, to: nil) == nil)
    }

    @Test func updateReestimatesOnlyWhenTheRouteTheEndsOrAClearSaySo() {
        let stored = Connection(id: 1, fromDeviceID: 1, toDeviceID: 2, cableLengthM: 9)
        func length(_ updated: Connection, _ input: ConnectionLengthRule.Input, to: RackPosition?) -> Double? {
            ConnectionLengthRule.forUpdate(stored: stored, updated: updated, input: input, from: from, to: to)
        }
        var tray = stored
        tray.routingPath = .cableTray
        #expect(length(tray, .absent, to: to) == 0.72)
        #expect(length(tray, .given(2), to: to) == 2)
        #expect(length(tray, .absent, to: nil) == 9)
        #expect(length(stored, .absent, to: to) == 9)
        var cleared = stored
        cleared.cableLengthM = nil
        #expect(length(cleared, .cleared, to: to) == 0.57)
        #expect(length(cleared, .cleared, to: nil) == nil)
        var moved = stored
        moved.toDeviceID = 3
        #expect(length(moved, .absent, to: placed(3, at: 5)) == 0.57)
    }

    @Test func theInputReadsPresenceNullAndValue() {
        #expect(ConnectionLengthRule.Input(body: JSONObject(fields: [:]), decodedLengthM: 9) == .absent)
        #expect(ConnectionLengthRule.Input(body: JSONObject(fields: ["cable_length_m": NSNull()]), decodedLengthM: nil) == .cleared)
        #expect(ConnectionLengthRule.Input(body: JSONObject(fields: ["cable_length_m": 2]), decodedLengthM: 2) == .given(2))
    }
}
