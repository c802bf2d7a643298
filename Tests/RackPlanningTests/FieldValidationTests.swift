import RackPlanning
import Testing

@Suite("Field validation")
struct FieldValidationTests {
    @Test func defaultRackIsValid() {
        #expect(Rack(id: 1, name: "Lab").fieldErrors().isEmpty)
        #expect(Rack(id: 1, name: "Lab").isValid)
    }

    @Test func everyRackFieldOutOfRangeIsListedInFieldOrder() {
        var rack = Rack(id: 1, name: "")
        rack.totalHeightU = 101
        rack.depthMM = 199
        rack.maxWeightKG = 2001
        rack.maxPowerWatts = -1
        rack.coolingCapacityBTU = 100_001
        rack.ambientTempC = 9
        rack.maxInletTempC = 41
        rack.airflowCFM = -5
        #expect(
            rack.fieldErrors().map(\.field) == [
                "name", "total_height_u", "depth_mm", "max_weight_kg", "max_power_watts", "cooling_capacity_btu",
                "ambient_temp_c", "max_inlet_temp_c", "airflow_cfm",
            ])
        #expect(
            rack.fieldErrors().map(\.type) == [
                "string_too_short", "less_than_equal", "greater_than_equal", "less_than_equal", "greater_than_equal",
                "less_than_equal", "greater_than_equal", "less_than_equal", "greater_than_equal",
            ])
    }

    @Test func rangeBoundsAreInclusive() {
        let edges = [
            Rack(
                id: 1, name: String(repeating: "r", count: 200), totalHeightU: 1, depthMM: 200, maxWeightKG: 0,
                maxPowerWatts: 0, coolingCapacityBTU: 0, ambientTempC: 10, maxInletTempC: 15, airflowCFM: 0),
            Rack(
                id: 1, name: "r", totalHeightU: 100, depthMM: 1500, maxWeightKG: 2000, maxPowerWatts: 50_000,
                coolingCapacityBTU: 100_000, ambientTempC: 35, maxInletTempC: 40),
        ]
        for rack in edges { #expect(rack.fieldErrors().isEmpty) }
    }

    @Test func messagesReadLikeTheApis() {
        let errors = Rack(id: 1, name: String(repeating: "r", count: 201), totalHeightU: 0).fieldErrors()
        #expect(
            errors == [
                FieldError(
                    field: "name", message: "String should have at most 200 characters", type: "string_too_long"),
                FieldError(
                    field: "total_height_u", message: "Input should be greater than or equal to 1",
                    type: "greater_than_equal"),
            ])
        let short = Rack(id: 1, name: "").fieldErrors()
        #expect(short.map(\.message) == ["String should have at least 1 character"])
    }

    @Test func fractionalBoundsKeepTheirDecimals() {
        var validator = FieldValidator()
        validator.number("ratio", 2, in: 0.5...1.5)
        #expect(validator.errors.map(\.message) == ["Input should be less than or equal to 1.5"])
    }

    @Test func nonFiniteNumbersAreRefused() {
        var rack = Rack(id: 1, name: "Lab")
        rack.depthMM = .infinity
        #expect(
            rack.fieldErrors() == [
                FieldError(field: "depth_mm", message: "Input should be a finite number", type: "finite_number")
            ])
    }

    @Test func specificationRanges() {
        let spec = DeviceSpecification(
            id: 1, brand: "", model: String(repeating: "m", count: 101), heightU: 51, depthMM: 1501, weightKG: 501,
            powerWatts: 10_001, heatOutputBTU: -1, maxOperatingTempC: -21)
        #expect(
            spec.fieldErrors().map(\.field) == [
                "brand", "model", "height_u", "depth_mm", "weight_kg", "power_watts", "heat_output_btu",
                "max_operating_temp_c",
            ])
        #expect(DeviceSpecification(id: 1, brand: "Dell", model: "R740", heightU: 0).fieldErrors().isEmpty)
    }

    @Test func catalogEntityRanges() {
        #expect(
            DeviceType(id: 1, name: "", slug: String(repeating: "s", count: 101)).fieldErrors().map(\.field) == [
                "name", "slug",
            ])
        #expect(
            Brand(id: 1, name: "Dell", slug: "dell", foundedYear: 1799).fieldErrors().map(\.field) == ["founded_year"])
        #expect(Brand(id: 1, name: "Dell", slug: "dell", foundedYear: 2100).fieldErrors().isEmpty)
        let model = CatalogModel(id: 1, brandID: 1, deviceTypeID: 1, name: "", heightU: 60, powerWatts: -3)
        #expect(model.fieldErrors().map(\.field) == ["name", "height_u", "power_watts"])
    }

    @Test func deviceRanges() {
        #expect(Device(id: 1, customName: "").fieldErrors().map(\.field) == ["custom_name"])
        #expect(
            Device(id: 1, serialNumber: String(repeating: "9", count: 201)).fieldErrors().map(\.type) == [
                "string_too_long"
            ])
        #expect(Device(id: 1, serialNumber: "").fieldErrors().isEmpty)
    }

    @Test func positionAndConnectionRanges() {
        #expect(RackPosition(id: 1, rackID: 1, deviceID: 1, startU: 0).fieldErrors().map(\.field) == ["start_u"])
        #expect(
            RackPosition(id: 1, rackID: 1, deviceID: 1, startU: 101).fieldErrors().map(\.type) == ["less_than_equal"])
        #expect(RackPosition(id: 1, rackID: 1, deviceID: 1, startU: 100).isValid)
        #expect(
            Connection(id: 1, fromDeviceID: 1, toDeviceID: 2, cableLengthM: -0.5).fieldErrors().map(\.field) == [
                "cable_length_m"
            ])
    }

    @Test func validateThrowsEveryFieldAtOnce() {
        do {
            try Rack(id: 1, name: "", totalHeightU: 0).validate()
            Issue.record("expected a validation error")
        } catch {
            #expect(error.status == 422)
            #expect(error.fieldErrors.count == 2)
        }
    }

    @Test func deviceMustReferenceExactlyOneRecord() throws {
        #expect(try DeviceReference(specificationID: 3, modelID: nil) == .specification(id: 3))
        #expect(try DeviceReference(specificationID: nil, modelID: 4) == .catalogModel(id: 4))
        #expect(throws: RackPlanningError.invalidDeviceReference) {
            try DeviceReference(specificationID: nil, modelID: nil)
        }
        do {
            _ = try DeviceReference(specificationID: 1, modelID: 2)
        } catch {
            #expect(error.status == 400)
            #expect(error.detail == "Provide only one of specification_id or model_id, not both")
        }
    }

    @Test func connectionCannotLinkADeviceToItself() throws {
        try ConnectionEnds.check(fromDeviceID: 1, toDeviceID: 2)
        #expect(throws: RackPlanningError.selfConnection) { try ConnectionEnds.check(fromDeviceID: 3, toDeviceID: 3) }
    }

    /// Values with no bound in the API reference still get one, so sums stay finite and
    /// encodable (schemathesis found a 500 from two devices at 1e308 BTU/hr).
    @Test func heatPortsAndCableLengthsAreBounded() {
        var spec = DeviceSpecification(id: 1, brand: "Dell", model: "R740", heightU: 2)
        spec.heatOutputBTU = 1e308
        spec.typicalPorts = ["eth": 4, "sfp": -1]
        #expect(spec.fieldErrors().map(\.field) == ["heat_output_btu", "typical_ports.sfp"])
        spec.heatOutputBTU = DeviceSpecification.maximumHeatOutputBTU
        spec.typicalPorts = ["eth": 4]
        #expect(spec.isValid)

        var connection = Connection(id: 1, fromDeviceID: 1, toDeviceID: 2, cableLengthM: 1e308)
        #expect(connection.fieldErrors().map(\.field) == ["cable_length_m"])
        connection.cableLengthM = Connection.maximumCableLengthM
        #expect(connection.isValid)
    }
}
