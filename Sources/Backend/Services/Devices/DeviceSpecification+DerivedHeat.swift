import RackPlanning

extension DeviceSpecification {
    /// This specification after a partial `PUT`, with its heat output kept consistent with its
    /// power draw.
    ///
    /// On create the store derives `heat_output_btu` (watts × 3.412) when it is absent. An update
    /// keeps that promise: a heat output the update leaves empty is derived from the watts, and a
    /// heat output that was derived before is derived again when only the watts change. A heat
    /// output entered by hand (one that differs from the old watts × 3.412) is never overwritten.
    /// - Parameters:
    ///   - previous: the stored specification before the update.
    ///   - heatGiven: whether the request body set `heat_output_btu` itself.
    func keepingDerivedHeat(from previous: DeviceSpecification, heatGiven: Bool) -> DeviceSpecification {
        var updated = self
        let wasDerived = previous.powerWatts.map { $0 * Self.btuPerWatt } == previous.heatOutputBTU
        if !heatGiven, wasDerived, powerWatts != previous.powerWatts {
            updated.heatOutputBTU = nil
        }
        return updated.fillingHeatOutput()
    }
}
