import Foundation
import RackPlanning

/// The `brand` and `model` a specification is looked up by: the body of
/// `POST /device-specs/fetch`, and the lookup part of a `POST /devices/quick-add` body.
///
/// Read with ``RecordInput/create(_:body:required:readOnly:)`` (quick-add reads the device's
/// own fields from the same body), so a missing or empty term is a 422 naming it like any other
/// field.
/// Surrounding spaces are dropped before matching: a term that is only spaces is empty.
struct SpecificationTerms: Codable, Sendable, FieldValidatable {
    var brand: String
    var model: String

    /// The record a body is laid over; both keys are required, so these are never used.
    static let defaults = SpecificationTerms(brand: "", model: "")

    /// The keys the body must carry.
    static let requiredKeys = ["brand", "model"]

    /// `brand` without surrounding spaces, as matched.
    var trimmedBrand: String { brand.trimmingCharacters(in: .whitespaces) }
    /// `model` without surrounding spaces, as matched.
    var trimmedModel: String { model.trimmingCharacters(in: .whitespaces) }

    func fieldErrors() -> [FieldError] {
        var check = FieldValidator()
        check.length("brand", trimmedBrand, in: 1...100)
        check.length("model", trimmedModel, in: 1...100)
        return check.errors
    }
}
