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
        check.number("heat_output_btu", heatOutputBTU, in: 0...DeviceSpecification.maximumHeatOutputBTU)
        check.number("max_operating_temp_c", maxOperatingTempC, in: -20...100)
        check.counts("typical_ports", typicalPorts, in: 0...DeviceSpecification.maximumPortCount)
        return check.errors
    }
}

extension DeviceSpecification {
    /// The API reference gives heat output no upper bound; this one (about 30 times the heat of
    /// the largest power draw a specification may state) keeps sums of many devices finite, so an
    /// analysis can always be encoded as JSON.
    public static let maximumHeatOutputBTU = 1_000_000.0

    /// The most ports of one kind a device may list.
    public static let maximumPortCount = 10_000
}
