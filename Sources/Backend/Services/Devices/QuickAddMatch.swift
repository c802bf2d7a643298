import RackPlanning

/// Finds the specification `POST /devices/quick-add` instantiates, or explains why there is none.
///
/// The match is the first specification (by id) whose brand contains the brand term *and*
/// whose model contains the model term, ignoring case. When nothing matches, the 404 lists up
/// to ``nearMatchLimit`` near matches, the first specifications whose brand contains the brand
/// term *or* whose model contains the model term, so a client can offer "did you mean".
struct QuickAddMatch {
    /// How many near matches a 404 lists.
    static let nearMatchLimit = 5

    let store: any RackRepository

    /// The matching specification.
    /// - Parameter terms: the validated brand and model terms.
    /// - Throws: ``APIError/notFound(_:)`` whose detail names the terms and the near matches.
    func specification(for terms: SpecificationTerms) async throws -> DeviceSpecification {
        let brand = terms.trimmedBrand
        let model = terms.trimmedModel
        if let match = try await store.matchSpecifications(brand: brand, model: model, limit: 1).first {
            return match
        }
        let near = try await nearMatches(brand: brand, model: model)
        throw APIError.notFound(Self.notFoundDetail(brand: brand, model: model, nearMatches: near))
    }

    /// The first ``nearMatchLimit`` specifications (by id) matching either term.
    ///
    /// The first few by id of a union are among the first few by id of each part, so two short
    /// reads suffice.
    func nearMatches(brand: String, model: String) async throws -> [DeviceSpecification] {
        let page = Page(skip: 0, limit: Self.nearMatchLimit)
        let byBrand = try await store.specifications(filter: SpecificationFilter(brand: brand), page: page)
        let byModel = try await store.specifications(filter: SpecificationFilter(model: model), page: page)
        var seen = Set<Int>()
        let union = (byBrand + byModel).filter { seen.insert($0.id).inserted }
        return Array(union.sorted { $0.id < $1.id }.prefix(Self.nearMatchLimit))
    }

    /// The 404's detail, e.g. `No device specification matches brand 'ubi' and model 'usw-48'.
    /// Near matches: Ubiquiti USW-Pro-24 (id 3), Ubiquiti USW-Lite-8 (id 4). To add it, create a
    /// specification with POST /api/device-specs.`
    static func notFoundDetail(brand: String, model: String, nearMatches: [DeviceSpecification]) -> String {
        var detail = "No device specification matches brand '\(brand)' and model '\(model)'."
        if nearMatches.isEmpty {
            detail += " No similar specification is stored either."
        } else {
            let names = nearMatches.map { "\($0.displayName) (id \($0.id))" }
            detail += " Near matches: " + names.joined(separator: ", ") + "."
        }
        return detail + " To add it, create a specification with POST /api/device-specs."
    }
}
