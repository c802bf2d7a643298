import RackPlanning

/// `GET /api/search`: one search over the catalog (device specifications, catalog models and
/// brands), answering every kind of hit in one list.
///
/// A specification matches when its brand or model contains the query, a model or a brand when
/// its name does, all ignoring case. `limit` applies to each kind separately, so a query that
/// matches many specifications still shows the matching brands and models; the list holds at
/// most three times `limit` hits, specifications first, then models, then brands, each kind in
/// id order. Nothing matching is an empty list, never a 404 (unlike the legacy
/// `/device-specs/search`).
///
/// The specification part is cached under ``CacheKey/specSearch(query:filters:)`` (the catalog
/// scope, so any catalog write drops it); models and brands are read each time.
struct CatalogSearch {
    /// `limit`'s range and default.
    static let limitRange = 1...100
    static let defaultLimit = 20

    let store: any RackRepository
    let cache: any ResultCache

    init(services: BackendServices) {
        self.store = services.store
        self.cache = services.cache
    }

    /// The hits for `query`.
    /// - Parameters:
    ///   - query: a non-empty search term.
    ///   - limit: the most hits of each kind.
    func results(for query: String, limit: Int) async throws -> [SearchResult] {
        let specs = try await specifications(matching: query, limit: limit)
        let models = try await store.searchModels(query, limit: limit)
        let brands = try await store.searchBrands(query, limit: limit)
        return specs.map(SearchResult.init) + models.map(SearchResult.init) + brands.map(SearchResult.init)
    }

    /// The specifications whose brand or model contains `query`, ignoring case, at most `limit`,
    /// in id order: cached under ``CacheKey/specSearch(query:filters:)``, shared with the legacy
    /// `GET /device-specs/search`.
    func specifications(matching query: String, limit: Int) async throws -> [DeviceSpecification] {
        // The store lowercases the term to match, so the key does too: "Dell" and "dell" share it.
        let key = CacheKey.specSearch(query: query.lowercased(), filters: ["limit": "\(limit)"])
        return try await cache.cached(key) {
            try await store.searchSpecifications(query, limit: limit)
        }
    }
}
