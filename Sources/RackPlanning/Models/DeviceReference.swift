/// What a device is an instance of: a specification or a catalog model, never both.
public enum DeviceReference: Hashable, Sendable {
    case specification(id: Int)
    case catalogModel(id: Int)

    /// The reference a create request names.
    ///
    /// - Parameters:
    ///   - specificationID: the request's `specification_id`.
    ///   - modelID: the request's `model_id`.
    /// - Throws: ``RackPlanningError/invalidDeviceReference(_:)`` (400) when neither or both are given.
    public init(specificationID: Int?, modelID: Int?) throws(RackPlanningError) {
        switch (specificationID, modelID) {
        case (let spec?, nil): self = .specification(id: spec)
        case (nil, let model?): self = .catalogModel(id: model)
        case (nil, nil):
            throw .invalidDeviceReference("Either specification_id or model_id must be provided")
        case (.some, .some):
            throw .invalidDeviceReference("Provide only one of specification_id or model_id, not both")
        }
    }
}
