import RackPlanning
import Testing

@Suite("Physical profile")
struct PhysicalProfileTests {
    @Test func specificationSuppliesTheProfile() throws {
        let device = Fixture.device(
            1, heightU: 2, watts: 450, heatBTU: 1600, weightKG: 25, airflow: .backToFront, width: .nineteenInch,
            depthMM: 700, access: .high)
        let profile = try #require(device.physicalProfile)
        #expect(
            profile
                == PhysicalProfile(
                    heightU: 2, width: .nineteenInch, depthMM: 700, weightKG: 25, powerWatts: 450, heatBTU: 1600,
                    airflow: .backToFront, access: .high))
    }

    @Test func heatFallsBackToWattsTimes3412() {
        // Not recorded, or recorded as 0: 450 W × 3.412 = 1 535.4 BTU/hr. Neither: 0.
        #expect(approx(Fixture.device(1, watts: 450).physicalProfile!.heatBTU, 1535.4))
        #expect(approx(Fixture.device(1, watts: 450, heatBTU: 0).physicalProfile!.heatBTU, 1535.4))
        #expect(Fixture.device(1).physicalProfile!.heatBTU == 0)
        #expect(Fixture.device(1).physicalProfile!.powerWatts == 0)
        #expect(Fixture.device(1).physicalProfile!.weightKG == 0)
    }

    @Test func catalogModelSuppliesTheProfileWhenThereIsNoSpecification() throws {
        // The gap in the reference service: catalog devices had no size, weight or heat.
        let device = Fixture.modelDevice(
            1, heightU: 1.5, watts: 30, width: "19in", airflow: "Back-to-Front", access: .low)
        let profile = try #require(device.physicalProfile)
        #expect(profile.heightU == 1.5)
        #expect(profile.width == .nineteenInch)
        #expect(profile.airflow == .backToFront)
        #expect(approx(profile.heatBTU, 102.36))
        #expect(profile.access == .low)
    }

    @Test func unreadableCatalogFieldsFallBack() throws {
        let profile = try #require(
            Fixture.modelDevice(1, heightU: 1, width: "wide", airflow: "upwards").physicalProfile)
        #expect(profile.width == nil)
        #expect(profile.airflow == .frontToBack)
    }

    @Test func noHeightMeansNoProfile() {
        #expect(Fixture.modelDevice(1, heightU: nil).physicalProfile == nil)
        #expect(Fixture.bareDevice(1).physicalProfile == nil)
    }

    @Test func specificationWinsOverCatalogModel() {
        var device = Fixture.device(1, heightU: 2)
        device.catalogModel = CatalogModel(id: 9, brandID: 1, deviceTypeID: 1, name: "Other", heightU: 4)
        #expect(device.physicalProfile?.heightU == 2)
    }

    @Test func displayNamePrefersCustomName() {
        #expect(Fixture.device(1, name: "Edge Router").displayName == "Edge Router")
        #expect(Fixture.device(1).displayName == "Acme M1")
        #expect(Fixture.modelDevice(2, heightU: 1).displayName == "Ubiquiti Model 2")
        #expect(Device(id: 8).displayName == "Device 8")
    }

    @Test func occupiedUnitsTruncateFractionalHeights() {
        #expect(PhysicalProfile(heightU: 2).occupiedUnits(startingAt: 5) == 5..<7)
        #expect(PhysicalProfile(heightU: 1.5).occupiedUnits(startingAt: 5) == 5..<6)
        #expect(PhysicalProfile(heightU: 0.5).occupiedUnits(startingAt: 5).isEmpty)
        #expect(PhysicalProfile(heightU: 0).occupiedUnits(startingAt: 5).isEmpty)
    }

    @Test func highestStartHonoursTheTopUnit() {
        // 42U: 2U → 41, 1.5U → floor(41.5) = 41, 1U → 42, 0U → 42; 43U device → none.
        #expect(PhysicalProfile(heightU: 2).highestStart(inRackOf: 42) == 41)
        #expect(PhysicalProfile(heightU: 1.5).highestStart(inRackOf: 42) == 41)
        #expect(PhysicalProfile(heightU: 1).highestStart(inRackOf: 42) == 42)
        #expect(PhysicalProfile(heightU: 0).highestStart(inRackOf: 42) == 42)
        #expect(PhysicalProfile(heightU: 43).highestStart(inRackOf: 42) == nil)
    }

    @Test func lenientWidthParsing() {
        #expect(RackWidth(lenient: "19\"") == .nineteenInch)
        #expect(RackWidth(lenient: " 19 ") == .nineteenInch)
        #expect(RackWidth(lenient: "10in") == nil)
        #expect(RackWidth(lenient: "23 inches") == .twentyThreeInch)
        #expect(RackWidth(lenient: "11 Inch") == .elevenInch)
        #expect(RackWidth(lenient: "half") == nil)
        #expect(RackWidth(lenient: "") == nil)
    }

    @Test func lenientAirflowParsingTakesTheAPISpellingAndFreeText() {
        #expect(AirflowPattern(lenient: "front_to_back") == .frontToBack)
        #expect(AirflowPattern(lenient: "passive") == .passive)
        #expect(AirflowPattern(lenient: "Front-to-Back") == .frontToBack)
        #expect(AirflowPattern(lenient: "side to side") == .sideToSide)
        #expect(AirflowPattern(lenient: "BACK_TO_FRONT") == .backToFront)
        #expect(AirflowPattern(lenient: "upwards") == nil)
        #expect(AirflowPattern(lenient: "") == nil)
    }

    @Test func specificationStoresDerivedHeatOnCreate() {
        let spec = DeviceSpecification(id: 1, brand: "Dell", model: "R740", heightU: 2, powerWatts: 500)
        #expect(approx(spec.fillingHeatOutput().heatOutputBTU ?? 0, 1706))
        let recorded = DeviceSpecification(
            id: 1, brand: "Dell", model: "R740", heightU: 2, powerWatts: 500, heatOutputBTU: 1200)
        #expect(recorded.fillingHeatOutput().heatOutputBTU == 1200)
        #expect(DeviceSpecification(id: 1, brand: "a", model: "b", heightU: 1).fillingHeatOutput().heatOutputBTU == nil)
    }
}
