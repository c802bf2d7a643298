// Brand's field ranges, from the API reference (§2), checked with `FieldValidator`.

extension Brand: FieldValidatable {
    public func fieldErrors() -> [FieldError] {
        var check = FieldValidator()
        check.length("name", name, in: 1...200)
        check.length("slug", slug, in: 1...200)
        check.integer("founded_year", foundedYear, in: 1800...2100)
        return check.errors
    }
}
