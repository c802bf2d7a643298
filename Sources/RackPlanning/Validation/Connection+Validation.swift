// Connection's field ranges, from the API reference (§2), checked with `FieldValidator`.

extension Connection: FieldValidatable {
    /// Field ranges only; a cable from a device to itself is a 400, see ``ConnectionEnds``.
    public func fieldErrors() -> [FieldError] {
        var check = FieldValidator()
        check.number("cable_length_m", cableLengthM, atLeast: 0)
        return check.errors
    }
}
