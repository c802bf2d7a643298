import Foundation
import RackPlanning

/// `POST /api/models/fetch`: the catalog model a brand and model name designate, from the store
/// only.
///
/// The original service answered a miss by scraping manufacturer web pages. This deployment has
/// no outbound network access by design, so a miss is a 404 whose detail says so and points at
/// `POST /api/brands` and `POST /api/models`, which add what the scrape would have found.
struct StoredModelLookup {
    /// The body, `{"brand": "Ubiquiti", "model": "USW-24"}`, read with
    /// ``RecordInput/create(_:body:required:readOnly:)`` so a missing or blank name is a 422
    /// naming it. Surrounding spaces are dropped before matching.
    struct Terms: Codable, Sendable, FieldValidatable {
        var brand: String
        var model: String

        /// The record a body is laid over; both keys are required, so these are never used.
        static let defaults = Terms(brand: "", model: "")
        static let requiredKeys = ["brand", "model"]

        var trimmedBrand: String { brand.trimmingCharacters(in: .whitespaces) }
        var trimmedModel: String { model.trimmingCharacters(in: .whitespaces) }

        /// The lengths of a brand's and a model's name (`rack-api.md` §2).
        func fieldErrors() -> [FieldError] {
            var check = FieldValidator()
            check.length("brand", trimmedBrand, in: 1...200)
            check.length("model", trimmedModel, in: 1...200)
            return check.errors
        }
    }

    let store: any RackRepository

    /// The model named `model` (ignoring case) of the brand named `brand` (ignoring case); with
    /// several variants of that name, the first stored.
    /// - Parameter terms: the validated names.
    /// - Returns: the stored model, with its brand and device type.
    /// - Throws: ``APIError/notFound(_:)`` when the brand or the model is not stored.
    func find(_ terms: Terms) async throws -> CatalogModel {
        let brandName = terms.trimmedBrand
        let modelName = terms.trimmedModel
        // The containment filters narrow the reads; equality ignoring case picks the exact names.
        let brands = try await store.brands(filter: BrandFilter(search: brandName), page: .all)
        guard let brand = brands.first(where: { Self.same($0.name, brandName) }) else {
            throw APIError.notFound(
                "Brand '\(brandName)' is not in the catalog, and this server does not fetch specifications from the "
                    + "web; add it with POST /api/brands, then the model with POST /api/models")
        }
        let models = try await store.models(filter: ModelFilter(brandID: brand.id, search: modelName), page: .all)
        guard let model = models.first(where: { Self.same($0.name, modelName) }) else {
            throw APIError.notFound(
                "Model '\(modelName)' of \(brand.name) is not in the catalog, and this server does not fetch "
                    + "specifications from the web; add it with POST /api/models")
        }
        return model
    }

    private static func same(_ lhs: String, _ rhs: String) -> Bool {
        lhs.caseInsensitiveCompare(rhs) == .orderedSame
    }
}
