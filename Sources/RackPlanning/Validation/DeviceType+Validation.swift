// DeviceType's field ranges, from the API reference (§2), checked with `FieldValidator`.

extension DeviceType: FieldValidatable {
    public func fieldErrors() -> [FieldError] {
        var check = FieldValidator()
        check.length("name", name, in: 1...100)
        check.length("slug", slug, in: 1...100)
        return check.errors
    }
}
