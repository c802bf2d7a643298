// Connection's field ranges, from the API reference (§2), checked with `FieldValidator`.

extension Connection: FieldValidatable {
    /// Field ranges only; a cable from a device to itself is a 400, see ``ConnectionEnds``.
    public func fieldErrors() -> [FieldError] {
        var check = FieldValidator()
        check.number("cable_length_m", cableLengthM, in: 0...Connection.maximumCableLengthM)
        return check.errors
    }
}

extension Connection {
    /// The longest cable a connection may record: 100 km, ten times the longest run the checks
    /// know (single-mode fiber, 10 km), so lengths and sums of them stay finite.
    public static let maximumCableLengthM = 100_000.0
}
