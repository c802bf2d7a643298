import Hummingbird
import RackPlanning

/// `/api/models`, the catalog's products: list (`?brand_id&device_type_id&search`), read,
/// create, partial update, delete, the legacy name search, and `fetch` (`rack-api.md` §3).
///
/// A create or update naming an unknown brand or device type is a 404; a duplicate
/// (brand, name, variant) a 409, and so is deleting a model devices still use. Every write
/// invalidates the cached ``CacheScope/catalog`` after the commit, before answering.
///
/// `POST /api/models/fetch {brand, model}` answers the stored model with those names. The
/// original scraped manufacturer pages on a miss; this deployment has no outbound network access
/// by design, so a miss is a 404 whose detail says so and suggests `POST /api/brands` and
/// `POST /api/models` (see ``StoredModelLookup``).
struct ModelRoutes {
    /// Most results of `GET /api/models/search`.
    static let searchLimit = 50

    let services: BackendServices

    func register(on api: RouterGroup<BackendRequestContext>) {
        api.get("models") { request, _ in
            let filter = ModelFilter(
                brandID: try request.intQuery("brand_id"), deviceTypeID: try request.intQuery("device_type_id"),
                search: request.stringQuery("search"))
            return try APIResponse.json(try await services.store.models(filter: filter, page: try request.page()))
        }
        // Registered before `models/{id}` so `search` is never read as an id.
        api.get("models/search") { request, _ in
            let query = try request.searchTerm()
            let models = try await services.store.searchModels(query, limit: Self.searchLimit)
            // The original answered an empty search with 404; its clients expect that.
            guard !models.isEmpty else { throw APIError.notFound("No models found matching '\(query)'") }
            return try APIResponse.json(models)
        }
        // The stored model of a brand and model name; never the web (see the type's comment).
        api.post("models/fetch") { request, context in
            let body = try await RecordInput.object(request, context: context)
            let terms = try RecordInput.create(
                StoredModelLookup.Terms.defaults, body: body, required: StoredModelLookup.Terms.requiredKeys)
            return try APIResponse.json(try await StoredModelLookup(store: services.store).find(terms))
        }
        api.post("models") { request, context in
            let body = try await RecordInput.object(request, context: context)
            let model = try RecordInput.create(
                CatalogModel(id: 0, brandID: 0, deviceTypeID: 0, name: ""), body: body,
                required: ["brand_id", "device_type_id", "name"], readOnly: CatalogInput.modelReadOnly)
            let created = try await services.store.createModel(model)
            await services.cache.invalidate(.catalog)
            return try APIResponse.created(created)
        }
        api.get("models/{id}") { _, context in
            try APIResponse.json(try await services.store.model(id: try context.id()))
        }
        api.put("models/{id}") { request, context in
            let id = try context.id()
            let body = try await RecordInput.object(request, context: context)
            let updated = try await services.store.transaction { store in
                let current = try await store.model(id: id)
                return try await store.updateModel(
                    try RecordInput.update(current, body: body, readOnly: CatalogInput.modelReadOnly))
            }
            await services.cache.invalidate(.catalog)
            return try APIResponse.json(updated)
        }
        api.delete("models/{id}") { _, context in
            try await services.store.deleteModel(id: try context.id())
            await services.cache.invalidate(.catalog)
            return APIResponse.noContent
        }
    }
}
