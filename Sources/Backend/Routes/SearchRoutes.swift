import Hummingbird

/// `GET /api/search?q=&limit=`: one search across specifications, catalog models and brands
/// (``CatalogSearch``), answering a JSON array of ``SearchResult`` (empty when nothing matches).
///
/// `q` is required and non-empty (422 otherwise); `limit` is 1–100, default 20, and applies to
/// each kind of hit.
struct SearchRoutes {
    let services: BackendServices

    func register(on api: RouterGroup<BackendRequestContext>) {
        let search = CatalogSearch(services: services)
        api.get("search") { request, _ in
            let query = try request.searchTerm()
            let limit = try request.intQuery("limit", in: CatalogSearch.limitRange) ?? CatalogSearch.defaultLimit
            return try APIResponse.json(try await search.results(for: query, limit: limit))
        }
    }
}
