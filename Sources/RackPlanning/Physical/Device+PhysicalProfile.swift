extension Device {
    /// The device's size and loads, from its specification or else its catalog model.
    ///
    /// `nil` when neither is embedded, or the catalog model has no height: such a device has
    /// no physical data, so it cannot be placed, analysed or optimized.
    public var physicalProfile: PhysicalProfile? {
        if let spec = specification {
            return PhysicalProfile(
                heightU: spec.heightU,
                width: spec.widthType,
                depthMM: spec.depthMM,
                weightKG: spec.weightKG ?? 0,
                powerWatts: spec.powerWatts ?? 0,
                heatBTU: spec.heatOutputBTU,
                airflow: spec.airflowPattern,
                access: accessFrequency)
        }
        if let model = catalogModel, let heightU = model.heightU {
            return PhysicalProfile(
                heightU: heightU,
                width: model.widthType.flatMap(RackWidth.init(lenient:)),
                depthMM: model.depthMM,
                weightKG: model.weightKG ?? 0,
                powerWatts: model.powerWatts ?? 0,
                heatBTU: model.heatOutputBTU,
                airflow: model.airflowPattern.flatMap(AirflowPattern.init(lenient:)) ?? .frontToBack,
                access: accessFrequency)
        }
        return nil
    }
}
