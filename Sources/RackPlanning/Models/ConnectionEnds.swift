/// The rule on a connection's two ends that no field range expresses.
public enum ConnectionEnds {
    /// Checks that a cable joins two different devices (existence is the caller's 404).
    /// - Throws: ``RackPlanningError/selfConnection(_:)`` (400) when both ends are one device.
    public static func check(fromDeviceID: Int, toDeviceID: Int) throws(RackPlanningError) {
        if fromDeviceID == toDeviceID { throw .selfConnection(fromDeviceID) }
    }
}
