// Rack's field ranges, from the API reference (§2), checked with `FieldValidator`.

extension Rack: FieldValidatable {
    public func fieldErrors() -> [FieldError] {
        var check = FieldValidator()
        check.length("name", name, in: 1...200)
        check.integer("total_height_u", totalHeightU, in: 1...100)
        check.number("depth_mm", depthMM, in: 200...1500)
        check.number("max_weight_kg", maxWeightKG, in: 0...2000)
        check.number("max_power_watts", maxPowerWatts, in: 0...50_000)
        check.number("cooling_capacity_btu", coolingCapacityBTU, in: 0...100_000)
        check.number("ambient_temp_c", ambientTempC, in: 10...35)
        check.number("max_inlet_temp_c", maxInletTempC, in: 15...40)
        check.number("airflow_cfm", airflowCFM, atLeast: 0)
        return check.errors
    }
}
