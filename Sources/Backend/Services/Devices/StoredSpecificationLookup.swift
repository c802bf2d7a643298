import Foundation
import RackPlanning

/// `POST /device-specs/fetch {brand, model}`: the stored specification of exactly that brand and
/// model, ignoring case (any variant; the lowest id when several variants are stored).
///
/// The original looked the make up on manufacturers' web sites when nothing was stored. This
/// deployment has no outbound network access by design, so it never scrapes: when nothing is
/// stored the answer is a 404 saying so and pointing at `POST /api/device-specs`, where the
/// figures can be entered by hand.
struct StoredSpecificationLookup {
    let store: any RackRepository

    /// The stored specification.
    /// - Parameter terms: the validated brand and model (surrounding spaces ignored).
    /// - Throws: ``APIError/notFound(_:)`` when no specification has that brand and model.
    func specification(for terms: SpecificationTerms) async throws -> DeviceSpecification {
        let brand = terms.trimmedBrand
        let model = terms.trimmedModel
        // The containment filter narrows the read; equality ignoring case picks the exact make.
        let candidates = try await store.specifications(
            filter: SpecificationFilter(brand: brand, model: model), page: .all)
        let exact = candidates.first { candidate in
            candidate.brand.caseInsensitiveCompare(brand) == .orderedSame
                && candidate.model.caseInsensitiveCompare(model) == .orderedSame
        }
        guard let exact else {
            throw APIError.notFound(
                "No stored device specification for brand '\(brand)' and model '\(model)'. "
                    + "This server does not fetch specifications from the web; "
                    + "create it with POST /api/device-specs.")
        }
        return exact
    }
}
