import Hummingbird
import RackPlanning

/// `/api/device-specs`: list, search, read, create, partial update, delete, and the stored-only
/// `fetch` (`rack-api.md` §2, §3, §9).
///
/// Creates derive `heat_output_btu` from the power draw when it is absent (the store does), and
/// updates keep a derived one in step (``DeviceSpecification/keepingDerivedHeat(from:heatGiven:)``).
/// A second specification with the same brand, model and variant is a 409, and so is deleting
/// one that devices still use. Reads of one specification and searches are cached; every write
/// invalidates the catalog scope after the commit, before answering.
struct SpecificationRoutes {
    /// The most hits the legacy search returns.
    static let searchLimit = 50

    let services: BackendServices

    func register(on api: RouterGroup<BackendRequestContext>) {
        let search = CatalogSearch(services: services)

        api.get("device-specs") { request, _ in
            let filter = SpecificationFilter(
                brand: request.stringQuery("brand"),
                model: request.stringQuery("model"),
                widthType: try request.enumQuery("width_type", as: RackWidth.self),
                source: try request.enumQuery("source", as: SpecSource.self))
            return try APIResponse.json(
                try await services.store.specifications(filter: filter, page: try request.page()))
        }
        // The legacy search: brand or model contains `q`, at most 50. It answered 404 when nothing
        // matched and old clients rely on that; `GET /api/search` answers an empty list instead.
        api.get("device-specs/search") { request, _ in
            let query = try request.searchTerm()
            let specifications = try await search.specifications(matching: query, limit: Self.searchLimit)
            guard !specifications.isEmpty else {
                throw APIError.notFound(
                    "No device specifications found matching '\(query)' (GET /api/search answers an empty list instead)")
            }
            return try APIResponse.json(specifications)
        }
        api.get("device-specs/{id}") { _, context in
            let id = try context.id()
            let json = try await services.cache.cachedJSON(.specification(id: id)) {
                try await services.store.specification(id: id)
            }
            return APIResponse.json(encoded: json)
        }
        api.post("device-specs") { request, context in
            let body = try await RecordInput.object(request, context: context)
            let specification = try RecordInput.create(
                DeviceSpecification(id: 0, brand: "", model: "", heightU: 0), body: body,
                required: ["brand", "model", "height_u"])
            let created = try await services.store.createSpecification(specification)
            await services.cache.invalidate(.catalog)
            return try APIResponse.created(created)
        }
        // Only what is stored: this deployment has no outbound network access, so unlike the
        // original it never scrapes manufacturers' sites (see ``StoredSpecificationLookup``).
        api.post("device-specs/fetch") { request, context in
            let body = try await RecordInput.object(request, context: context)
            let terms = try RecordInput.create(
                SpecificationTerms.defaults, body: body, required: SpecificationTerms.requiredKeys)
            return try APIResponse.json(
                try await StoredSpecificationLookup(store: services.store).specification(for: terms))
        }
        api.put("device-specs/{id}") { request, context in
            let id = try context.id()
            let body = try await RecordInput.object(request, context: context)
            let updated = try await services.store.transaction { store in
                let current = try await store.specification(id: id)
                let merged = try RecordInput.update(current, body: body)
                return try await store.updateSpecification(
                    merged.keepingDerivedHeat(from: current, heatGiven: body.contains("heat_output_btu")))
            }
            await services.cache.invalidate(.catalog)
            return try APIResponse.json(updated)
        }
        api.delete("device-specs/{id}") { _, context in
            try await services.store.deleteSpecification(id: try context.id())
            await services.cache.invalidate(.catalog)
            return APIResponse.noContent
        }
    }
}
