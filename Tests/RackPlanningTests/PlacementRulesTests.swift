import RackPlanning
import Testing

@Suite("Placement rules")
struct PlacementRulesTests {
    let rack = Fixture.rack(id: 1, heightU: 42, width: .nineteenInch)

    func place(
        _ device: Device?, at startU: Int, in rack: Rack? = nil, rackPositions: [RackPosition] = [],
        devicePositions: [RackPosition] = [], moving: Int? = nil
    ) -> PlacementDecision {
        let target = rack ?? self.rack
        return PlacementRules.evaluate(
            PlacementRequest(rackID: target.id, deviceID: device?.id ?? 99, startU: startU), rack: target,
            device: device, rackPositions: rackPositions, devicePositions: devicePositions,
            movingPositionID: moving)
    }

    // MARK: order of checks

    @Test func missingRackIsReportedBeforeMissingDevice() {
        let decision = PlacementRules.evaluate(
            PlacementRequest(rackID: 5, deviceID: 6, startU: 1), rack: nil, device: nil, rackPositions: [],
            devicePositions: [])
        #expect(decision == .rackNotFound(rackID: 5))
        #expect(decision.status == 404)
        #expect(decision.detail == "Rack 5 not found")
    }

    @Test func missingDeviceIsReportedBeforeBounds() {
        let decision = PlacementRules.evaluate(
            PlacementRequest(rackID: 1, deviceID: 6, startU: 500), rack: rack, device: nil, rackPositions: [],
            devicePositions: [])
        #expect(decision == .deviceNotFound(deviceID: 6))
        #expect(decision.status == 404)
    }

    @Test func boundsAreCheckedBeforeWidth() {
        // A 23" 2U device at U42 of a 19" rack breaks both rules; bounds come first.
        let wide = Fixture.device(1, heightU: 2, width: .twentyThreeInch)
        #expect(place(wide, at: 42) == .outOfBounds(startU: 42, heightU: 2, totalHeightU: 42))
        #expect(place(wide, at: 1) == .widthIncompatible(device: .twentyThreeInch, rack: .nineteenInch))
        #expect(place(wide, at: 1).status == 400)
    }

    @Test func widthIsCheckedBeforeOverlap() {
        let occupant = Fixture.position(Fixture.device(2, heightU: 4), at: 1)
        let wide = Fixture.device(1, width: .twentyThreeInch)
        #expect(
            place(wide, at: 2, rackPositions: [occupant])
                == .widthIncompatible(device: .twentyThreeInch, rack: .nineteenInch))
    }

    @Test func doublePlacementIsReportedBeforeOverlap() {
        // Device 1 already sits in rack 2; asking for an occupied U in rack 1 reports the double placement.
        let device = Fixture.device(1)
        let elsewhere = Fixture.position(device, at: 5, rack: 2)
        let occupant = Fixture.position(Fixture.device(2), at: 10)
        let decision = place(device, at: 10, rackPositions: [occupant], devicePositions: [elsewhere])
        #expect(decision == .alreadyPlaced(rackID: 2, startU: 5))
        #expect(decision.status == 409)
        #expect(decision.detail == "Device is already placed in rack 2 at U5; move it instead")
    }

    @Test func deviceWithoutPhysicalDataIsABadRequest() {
        #expect(place(Fixture.bareDevice(3), at: 1) == .missingPhysicalData(deviceID: 3))
        #expect(place(Fixture.modelDevice(4, heightU: nil), at: 1).status == 400)
    }

    // MARK: bounds (top U usable)

    @Test func twoUnitDeviceAtU41Of42Fits() {
        // Top U = 41 + 2 - 1 = 42 ≤ 42. (The reference service's 41 + 2 > 42 wrongly refused it.)
        let decision = place(Fixture.device(1, heightU: 2), at: 41)
        #expect(decision == .accepted(occupying: 41..<43))
        #expect(decision.status == 201)
        #expect(decision.detail == "Placed at U41-U42")
    }

    @Test func twoUnitDeviceAtU42Of42DoesNotFit() {
        // Top U = 42 + 2 - 1 = 43 > 42.
        let decision = place(Fixture.device(1, heightU: 2), at: 42)
        #expect(decision == .outOfBounds(startU: 42, heightU: 2, totalHeightU: 42))
        #expect(decision.detail == "A 2U device at U42 would reach U43, above the top of this 42U rack")
    }

    @Test func oneUnitDeviceFitsInTheTopUnit() {
        #expect(place(Fixture.device(1), at: 42) == .accepted(occupying: 42..<43))
    }

    @Test func startBelowU1IsOutOfBounds() {
        #expect(place(Fixture.device(1), at: 0).status == 400)
        #expect(place(Fixture.device(1), at: 0).detail == "Position U0 is outside this 42U rack (U1-U42)")
    }

    @Test func zeroUnitDeviceFitsAtTheTopButNotAboveIt() {
        #expect(place(Fixture.device(1, heightU: 0), at: 42) == .accepted(occupying: 42..<42))
        #expect(place(Fixture.device(1, heightU: 0), at: 43).status == 400)
    }

    @Test func fractionalHeightMustNotPassTheTop() {
        // 1.5U at U42: 42 + 1.5 - 1 = 42.5 > 42; at U41: 41.5 ≤ 42, and it blocks only U41.
        #expect(place(Fixture.device(1, heightU: 1.5), at: 42).status == 400)
        #expect(place(Fixture.device(1, heightU: 1.5), at: 41) == .accepted(occupying: 41..<42))
    }

    // MARK: width

    @Test func widthCompatibilityTable() {
        let fits: [RackWidth: Set<RackWidth>] = [
            .elevenInch: [.elevenInch, .eighteenInch, .nineteenInch, .twentyThreeInch],
            .eighteenInch: [.eighteenInch, .nineteenInch, .twentyThreeInch],
            .nineteenInch: [.nineteenInch, .twentyThreeInch],
            .twentyThreeInch: [.twentyThreeInch],
        ]
        for device in RackWidth.allCases {
            for rackWidth in RackWidth.allCases {
                let expected = fits[device]!.contains(rackWidth)
                #expect(device.fits(in: rackWidth) == expected, "\(device.rawValue) in \(rackWidth.rawValue)")
                let target = Fixture.rack(width: rackWidth)
                #expect(place(Fixture.device(1, width: device), at: 1, in: target).isAccepted == expected)
            }
        }
    }

    @Test func unknownWidthPassesEvenTheNarrowestRack() {
        #expect(place(Fixture.device(1), at: 1, in: Fixture.rack(width: .elevenInch)).isAccepted)
    }

    @Test func catalogModelWidthIsReadFromFreeText() {
        // "23 inch" is 23": refused by a 19" rack. An unreadable width passes.
        #expect(
            place(Fixture.modelDevice(1, heightU: 1, width: "23 inch"), at: 1)
                == .widthIncompatible(device: .twentyThreeInch, rack: .nineteenInch))
        #expect(place(Fixture.modelDevice(1, heightU: 1, width: "full rack"), at: 1).isAccepted)
    }

    // MARK: overlap

    @Test func overlapListsTheClashingUnits() {
        // Existing 3U device at U10 holds U10-U12; a 2U device at U11 wants U11-U12.
        let occupant = Fixture.position(Fixture.device(5, heightU: 3), at: 10)
        let decision = place(Fixture.device(1, heightU: 2), at: 11, rackPositions: [occupant])
        #expect(decision == .overlap(units: [11, 12], deviceIDs: [5]))
        #expect(decision.status == 409)
        #expect(decision.detail == "Position conflicts with existing devices at U11, U12 (device 5)")
    }

    @Test func overlapAcrossTwoDevicesListsAllUnitsInOrder() {
        // Occupants: 1U at U10, 2U at U13 (U13-U14). New 4U at U10 wants U10-U13.
        let occupants = [
            Fixture.position(Fixture.device(6, heightU: 2), at: 13),
            Fixture.position(Fixture.device(5), at: 10),
        ]
        #expect(
            place(Fixture.device(1, heightU: 4), at: 10, rackPositions: occupants)
                == .overlap(units: [10, 13], deviceIDs: [5, 6]))
    }

    @Test func adjacentDevicesDoNotOverlap() {
        let occupant = Fixture.position(Fixture.device(5, heightU: 3), at: 10)
        #expect(place(Fixture.device(1, heightU: 2), at: 8, rackPositions: [occupant]).isAccepted)
        #expect(place(Fixture.device(1, heightU: 2), at: 13, rackPositions: [occupant]).isAccepted)
    }

    @Test func fractionalHeightsAreTruncated() {
        // 1.5U at U10 blocks int(10) … int(11.5) - 1 = U10 only, so U11 is free.
        let occupant = Fixture.position(Fixture.device(5, heightU: 1.5), at: 10)
        #expect(place(Fixture.device(1), at: 11, rackPositions: [occupant]).isAccepted)
        #expect(place(Fixture.device(1), at: 10, rackPositions: [occupant]) == .overlap(units: [10], deviceIDs: [5]))
        // A 2.5U newcomer at U8 wants U8-U9 only (int(10.5) - 1 = 9): no clash with U10.
        #expect(
            place(Fixture.device(1, heightU: 2.5), at: 8, rackPositions: [occupant]) == .accepted(occupying: 8..<10))
    }

    @Test func zeroUnitAndSubUnitDevicesOccupyNothing() {
        let zeroU = Fixture.position(Fixture.device(5, heightU: 0), at: 10)
        let halfU = Fixture.position(Fixture.device(6, heightU: 0.5), at: 11)
        #expect(place(Fixture.device(1, heightU: 2), at: 10, rackPositions: [zeroU, halfU]).isAccepted)
        // …and a 0U newcomer fits on top of an occupied U.
        let full = Fixture.position(Fixture.device(7, heightU: 4), at: 20)
        #expect(place(Fixture.device(1, heightU: 0), at: 21, rackPositions: [full]) == .accepted(occupying: 21..<21))
    }

    @Test func occupantsWithoutPhysicalDataBlockNothing() {
        let unknown = Fixture.position(Fixture.bareDevice(5), at: 10)
        #expect(place(Fixture.device(1), at: 10, rackPositions: [unknown]).isAccepted)
    }

    // MARK: moves

    @Test func moveWithinTheRackIgnoresItsOwnPosition() {
        // Device 1 (2U) at U10 (position 77) moves up one U: U11-U12 overlaps its old U11, which is ignored.
        let device = Fixture.device(1, heightU: 2)
        let current = Fixture.position(device, at: 10, id: 77)
        let decision = place(device, at: 11, rackPositions: [current], devicePositions: [current], moving: 77)
        #expect(decision == .accepted(occupying: 11..<13))
        // Without naming the moved position it is a double placement.
        #expect(
            place(device, at: 11, rackPositions: [current], devicePositions: [current])
                == .alreadyPlaced(rackID: 1, startU: 10))
    }

    @Test func moveToAnotherRackStillChecksOverlapThere() {
        let device = Fixture.device(1, heightU: 2)
        let current = Fixture.position(device, at: 10, rack: 2, id: 77)
        let occupant = Fixture.position(Fixture.device(5), at: 4)
        let decision = place(device, at: 3, rackPositions: [occupant], devicePositions: [current], moving: 77)
        #expect(decision == .overlap(units: [4], deviceIDs: [5]))
        #expect(place(device, at: 5, rackPositions: [occupant], devicePositions: [current], moving: 77).isAccepted)
    }

    @Test func moveStillRunsTheBoundsAndWidthRules() {
        let device = Fixture.device(1, heightU: 2)
        let current = Fixture.position(device, at: 10, id: 77)
        #expect(place(device, at: 42, rackPositions: [current], devicePositions: [current], moving: 77).status == 400)
    }

    @Test func deviceAlreadyInThisRackCannotBePlacedTwice() {
        let device = Fixture.device(1)
        let current = Fixture.position(device, at: 30)
        #expect(place(device, at: 2, rackPositions: [current]) == .alreadyPlaced(rackID: 1, startU: 30))
    }

    @Test func catalogModelDeviceCanBePlaced() {
        // The gap the reference service had: catalog devices have a height now.
        #expect(place(Fixture.modelDevice(1, heightU: 2), at: 41) == .accepted(occupying: 41..<43))
    }
}
