// Device's field ranges, from the API reference (§2), checked with `FieldValidator`.

extension Device: FieldValidatable {
    /// Field ranges only; "exactly one of specification_id / model_id" is a 400, see ``DeviceReference``.
    public func fieldErrors() -> [FieldError] {
        var check = FieldValidator()
        check.length("custom_name", customName, in: 1...200)
        check.length("serial_number", serialNumber, in: 0...200)
        return check.errors
    }
}
