/// An entity whose fields have ranges the API enforces.
public protocol FieldValidatable {
    /// Every field out of range, in field order; empty when the value is acceptable.
    func fieldErrors() -> [FieldError]
}

extension FieldValidatable {
    /// Whether ``fieldErrors()`` finds nothing.
    public var isValid: Bool { fieldErrors().isEmpty }

    /// Throws the 422 validation error when any field is out of range.
    /// - Throws: ``RackPlanningError/validationFailed(_:)`` listing every field.
    public func validate() throws(RackPlanningError) {
        let errors = fieldErrors()
        if !errors.isEmpty { throw .validationFailed(errors) }
    }
}
