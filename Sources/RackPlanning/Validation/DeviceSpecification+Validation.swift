// DeviceSpecification's field ranges, from the API reference (§2), checked with `FieldValidator`.

extension DeviceSpecification: FieldValidatable {
    public func fieldErrors() -> [FieldError] {
        var check = FieldValidator()
        check.length("brand", brand, in: 1...100)
        check.length("model", model, in: 1...100)
        check.number("height_u", heightU, in: 0...50)
        check.number("depth_mm", depthMM, in: 0...1500)
        check.number("weight_kg", weightKG, in: 0...500)
        check.number("power_watts", powerWatts, in: 0...10_000)
        check.number("heat_output_btu", heatOutputBTU, atLeast: 0)
        check.number("max_operating_temp_c", maxOperatingTempC, in: -20...100)
        return check.errors
    }
}
