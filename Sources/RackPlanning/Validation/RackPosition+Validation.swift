// RackPosition's field ranges, from the API reference (§2), checked with `FieldValidator`.

extension RackPosition: FieldValidatable {
    public func fieldErrors() -> [FieldError] {
        var check = FieldValidator()
        check.integer("start_u", startU, in: 1...100)
        return check.errors
    }
}
