import RackPlanning
import Testing

@Suite("Cable lengths and checks")
struct CableTests {
    // Auto length: (|Δstart_u| × 0.04445 + depth_m) × routing, 2 dp.
    // Ends at U1 and U11 (Δ 10), no depth recorded (0.6 m): 0.4445 + 0.6 = 1.0445 m
    //   direct     × 1.2 = 1.2534  → 1.25
    //   cable_tray × 1.5 = 1.56675 → 1.57
    //   conduit    × 1.8 = 1.8801  → 1.88
    @Test func estimatePerRouting() {
        #expect(CableLength.estimate(fromStartU: 1, toStartU: 11, depthMM: nil, routing: .direct) == 1.25)
        #expect(CableLength.estimate(fromStartU: 1, toStartU: 11, depthMM: nil, routing: .cableTray) == 1.57)
        #expect(CableLength.estimate(fromStartU: 11, toStartU: 1, depthMM: nil, routing: .conduit) == 1.88)
    }

    @Test func estimateUsesTheDeeperDevice() {
        // Same U, depths 800 and 450 mm → 0.8 m × 1.2 = 0.96.
        let a = Fixture.position(Fixture.device(1, depthMM: 800), at: 5)
        let b = Fixture.position(Fixture.device(2, depthMM: 450), at: 5)
        let connection = Connection(id: 1, fromDeviceID: 1, toDeviceID: 2)
        #expect(CableLength.resolve(connection, from: a, to: b) == 0.96)
    }

    @Test func recordedLengthWinsOverTheEstimate() {
        let a = Fixture.position(Fixture.device(1), at: 1)
        let b = Fixture.position(Fixture.device(2), at: 11)
        let connection = Connection(id: 1, fromDeviceID: 1, toDeviceID: 2, cableLengthM: 3)
        #expect(CableLength.resolve(connection, from: a, to: b) == 3)
    }

    @Test func noEstimateAcrossRacksOrForUnplacedEnds() {
        let a = Fixture.position(Fixture.device(1), at: 1)
        let b = Fixture.position(Fixture.device(2), at: 11, rack: 2)
        let connection = Connection(id: 1, fromDeviceID: 1, toDeviceID: 2)
        #expect(CableLength.resolve(connection, from: a, to: b) == nil)
        #expect(CableLength.resolve(connection, from: a, to: nil) == nil)
    }

    @Test func routingChangeWithoutALengthReEstimates() {
        // Stored 1.25 m direct; switching to conduit with no length → 1.88.
        let a = Fixture.position(Fixture.device(1), at: 1)
        let b = Fixture.position(Fixture.device(2), at: 11)
        let stored = Connection(id: 1, fromDeviceID: 1, toDeviceID: 2, cableLengthM: 1.25, routingPath: .direct)
        #expect(CableLength.afterUpdate(stored, newLengthM: nil, newRouting: .conduit, from: a, to: b) == 1.88)
        #expect(CableLength.afterUpdate(stored, newLengthM: 4, newRouting: .conduit, from: a, to: b) == 4)
        #expect(CableLength.afterUpdate(stored, newLengthM: nil, newRouting: .direct, from: a, to: b) == 1.25)
        #expect(CableLength.afterUpdate(stored, newLengthM: nil, newRouting: nil, from: a, to: b) == 1.25)
        // Ends no longer share a rack: keep what was stored.
        #expect(CableLength.afterUpdate(stored, newLengthM: nil, newRouting: .conduit, from: a, to: nil) == 1.25)
    }

    func check(_ type: CableType, length: Double?, fromU: Int = 1, toU: Int = 20) -> CableCheck {
        let a = Fixture.position(Fixture.device(1), at: fromU)
        let b = Fixture.position(Fixture.device(2), at: toU)
        return CableCheck(
            Connection(id: 9, fromDeviceID: 1, toDeviceID: 2, cableType: type, cableLengthM: length), from: a, to: b)
    }

    @Test func endsTwoUnitsApartOrCloserAreATightBend() {
        #expect(check(.cat6, length: 1, fromU: 10, toU: 12).issues.map(\.kind) == [.tightBend])
        #expect(check(.cat6, length: 1, fromU: 10, toU: 10).issues.map(\.kind) == [.tightBend])
        #expect(check(.cat6, length: 1, fromU: 10, toU: 13).issues.isEmpty)
        #expect(check(.cat6, length: 1, fromU: 10, toU: 12).valid)
    }

    @Test func lengthLimitsPerMedium() {
        // Copper (and console) 100 m, multi-mode 550 m, single-mode 10 km, power unchecked.
        let cases: [(CableType, Double, Bool)] = [
            (.cat5e, 100, true), (.cat5e, 120, false), (.cat6a, 101, false), (.cat7, 99, true),
            (.console, 120, false), (.fiberMultiMode, 550, true), (.fiberMultiMode, 600, false),
            (.fiberSingleMode, 10_000, true), (.fiberSingleMode, 12_000, false), (.power, 500, true),
        ]
        for (type, length, valid) in cases {
            let result = check(type, length: length)
            #expect(result.valid == valid, "\(type.rawValue) \(length) m")
            #expect(result.issues.contains { $0.kind == .exceedsMaximumLength } == !valid)
        }
    }

    @Test func longCat6IsWarnedAboutTenGigabit() {
        #expect(check(.cat6, length: 50).issues.isEmpty)
        let sixty = check(.cat6, length: 60)
        #expect(sixty.valid)
        #expect(sixty.issues.map(\.kind) == [.cat6TenGigabitReach])
        #expect(sixty.issues.map(\.severity) == [.warning])
        #expect(check(.cat6a, length: 60).issues.isEmpty)
        // Over 100 m Cat6 is both an error and the 10G warning.
        #expect(check(.cat6, length: 120).issues.map(\.kind) == [.exceedsMaximumLength, .cat6TenGigabitReach])
    }

    @Test func unknownLengthIsNotLengthChecked() {
        let a = Fixture.position(Fixture.device(1), at: 1)
        let result = CableCheck(Connection(id: 1, fromDeviceID: 1, toDeviceID: 2), from: a, to: nil)
        #expect(result.lengthM == nil)
        #expect(result.issues.isEmpty)
        #expect(result.valid)
    }

    @Test func bulkCheckFindsEachEndsPosition() {
        let positions = [Fixture.position(Fixture.device(1), at: 1), Fixture.position(Fixture.device(2), at: 2)]
        let connections = [
            Connection(id: 1, fromDeviceID: 1, toDeviceID: 2),
            Connection(id: 2, fromDeviceID: 1, toDeviceID: 3, cableType: .fiberMultiMode, cableLengthM: 700),
        ]
        let results = CableCheck.checkAll(connections, positions: positions)
        #expect(results.map(\.connectionID) == [1, 2])
        #expect(results.map(\.valid) == [true, false])
        // U1 to U2 in one rack, no length: (0.04445 + 0.6) × 1.2 = 0.77334 → 0.77, and a tight bend.
        #expect(results[0].lengthM == 0.77)
        #expect(results[0].issues.map(\.kind) == [.tightBend])
    }

    @Test func cableTypesUseTheApiSpelling() {
        #expect(
            CableType.allCases.map(\.rawValue) == [
                "Cat5e", "Cat6", "Cat6a", "Cat7", "Fiber-SM", "Fiber-MM", "Power", "Console",
            ])
        #expect(RoutingPath.allCases.map(\.rawValue) == ["direct", "cable_tray", "conduit"])
    }
}

@Suite("Bill of materials")
struct BillOfMaterialsTests {
    // Rack 1: "Switch" (1) at U1, "Server A" (2) at U11, "Server B" (3) at U13. Rack 2: "Router" (4) at U5.
    //   c1 Switch–Server A, Cat6, no length, both in rack 1 → Δ 10: 1.0445 × 1.2 = 1.25 m → "Cat6 2m"
    //   c2 Server A–Router, Cat6, 5.2 m recorded (crosses racks)            → "Cat6 6m"
    //   c3 Router–(device 5 in rack 2): neither end in rack 1               → left out
    //   c4 Server B–Router, Fiber-MM, no length, crosses racks              → "Fiber-MM unknown length"
    //   c5 Switch–Server B, Cat6, no length → Δ 12: (0.5334 + 0.6) × 1.2 = 1.36 m → "Cat6 2m"
    // Summary: Cat6 2m × 2, Cat6 6m × 1, Fiber-MM unknown length × 1; 4 cables.
    let switchDevice = Fixture.device(1, name: "Switch")
    let serverA = Fixture.device(2, name: "Server A")
    let serverB = Fixture.device(3, name: "Server B")
    let router = Fixture.device(4, name: "Router")
    var positions: [RackPosition] {
        [
            Fixture.position(switchDevice, at: 1), Fixture.position(serverA, at: 11), Fixture.position(serverB, at: 13),
            Fixture.position(router, at: 5, rack: 2), Fixture.position(Fixture.device(5), at: 9, rack: 2),
        ]
    }
    let connections = [
        Connection(id: 5, fromDeviceID: 1, toDeviceID: 3),
        Connection(id: 1, fromDeviceID: 1, toDeviceID: 2),
        Connection(id: 2, fromDeviceID: 2, toDeviceID: 4, cableLengthM: 5.2),
        Connection(id: 3, fromDeviceID: 4, toDeviceID: 5),
        Connection(id: 4, fromDeviceID: 3, toDeviceID: 4, cableType: .fiberMultiMode),
    ]

    @Test func billListsConnectionsTouchingTheRack() {
        let bill = BillOfMaterials(rackID: 1, connections: connections, positions: positions)
        #expect(bill.cables.map(\.connectionID) == [1, 2, 4, 5])
        #expect(
            bill.cables[0]
                == .init(connectionID: 1, fromDevice: "Switch", toDevice: "Server A", cableType: .cat6, lengthM: 1.25))
        #expect(bill.cables.map(\.lengthM) == [1.25, 5.2, nil, 1.36])
        #expect(bill.cables.allSatisfy { $0.quantity == 1 })
        #expect(bill.totalCables == 4)
        #expect(bill.totalCost == nil)
    }

    @Test func summaryGroupsByTypeAndRoundedUpLength() {
        let bill = BillOfMaterials(rackID: 1, connections: connections, positions: positions)
        #expect(bill.cableSummary == ["Cat6 2m": 2, "Cat6 6m": 1, "Fiber-MM unknown length": 1])
    }

    @Test func otherRackGetsItsOwnBill() {
        // Rack 2 touches c2, c3 and c4. c3 (Router U5 – device 5 U9): Δ 4 → (0.1778 + 0.6) × 1.2 = 0.93 m.
        let bill = BillOfMaterials(rackID: 2, connections: connections, positions: positions)
        #expect(bill.cables.map(\.connectionID) == [2, 3, 4])
        #expect(bill.cables[1].toDevice == "Acme M5")
        #expect(bill.cableSummary == ["Cat6 6m": 1, "Cat6 1m": 1, "Fiber-MM unknown length": 1])
    }

    @Test func wholeMetreLengthsAreNotRoundedUp() {
        let line = BillOfMaterials.Line(connectionID: 1, fromDevice: "a", toDevice: "b", cableType: .cat6a, lengthM: 3)
        #expect(line.summaryKey == "Cat6a 3m")
    }

    @Test func emptyRackHasAnEmptyBill() {
        let bill = BillOfMaterials(rackID: 9, connections: connections, positions: positions)
        #expect(bill.cables.isEmpty)
        #expect(bill.cableSummary.isEmpty)
        #expect(bill.totalCables == 0)
    }
}
