// CatalogModel's field ranges, from the API reference (§2), checked with `FieldValidator`.

extension CatalogModel: FieldValidatable {
    /// A model's name, plus the same physical ranges as a specification's.
    public func fieldErrors() -> [FieldError] {
        var check = FieldValidator()
        check.length("name", name, in: 1...200)
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
