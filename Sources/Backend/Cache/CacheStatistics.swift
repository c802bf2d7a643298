import Synchronization

/// The cache's counters and breaker state, as `/api/health/cache/stats` shows them.
public struct CacheStatistics: Sendable, Hashable, Codable {
    /// `redis`, or `none` for the embedded default without a cache.
    public var backend: String
    public var hits: Int
    /// Every lookup that did not return a value, bypassed ones included.
    public var misses: Int
    /// Misses answered without asking Redis (breaker open, or invalidations still to send).
    public var bypassed: Int
    /// Failed Redis operations (lookups, stores, invalidations) and unreadable entries.
    public var errors: Int
    public var stores: Int
    public var invalidations: Int
    /// Invalidations that could not reach Redis yet; until they do, this worker bypasses the cache.
    public var pendingInvalidations: Int
    /// `closed`, `open`, `half_open`, or `disabled` without a cache.
    public var breakerState: String
    public var breakerOpenings: Int
    /// Open Redis connections.
    public var connections: Int

    /// hits / (hits + misses), 0 before any lookup.
    public var hitRate: Double {
        hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses)
    }

    public init(
        backend: String, hits: Int = 0, misses: Int = 0, bypassed: Int = 0, errors: Int = 0, stores: Int = 0,
        invalidations: Int = 0, pendingInvalidations: Int = 0, breakerState: String, breakerOpenings: Int = 0,
        connections: Int = 0
    ) {
        self.backend = backend
        self.hits = hits
        self.misses = misses
        self.bypassed = bypassed
        self.errors = errors
        self.stores = stores
        self.invalidations = invalidations
        self.pendingInvalidations = pendingInvalidations
        self.breakerState = breakerState
        self.breakerOpenings = breakerOpenings
        self.connections = connections
    }

    enum CodingKeys: String, CodingKey {
        case backend, hits, misses, bypassed, errors, stores, invalidations
        case pendingInvalidations = "pending_invalidations"
        case breakerState = "breaker_state"
        case breakerOpenings = "breaker_openings"
        case connections
        case hitRate = "hit_rate"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            backend: try container.decode(String.self, forKey: .backend),
            hits: try container.decode(Int.self, forKey: .hits),
            misses: try container.decode(Int.self, forKey: .misses),
            bypassed: try container.decode(Int.self, forKey: .bypassed),
            errors: try container.decode(Int.self, forKey: .errors),
            stores: try container.decode(Int.self, forKey: .stores),
            invalidations: try container.decode(Int.self, forKey: .invalidations),
            pendingInvalidations: try container.decode(Int.self, forKey: .pendingInvalidations),
            breakerState: try container.decode(String.self, forKey: .breakerState),
            breakerOpenings: try container.decode(Int.self, forKey: .breakerOpenings),
            connections: try container.decode(Int.self, forKey: .connections))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(backend, forKey: .backend)
        try container.encode(hits, forKey: .hits)
        try container.encode(misses, forKey: .misses)
        try container.encode(bypassed, forKey: .bypassed)
        try container.encode(errors, forKey: .errors)
        try container.encode(stores, forKey: .stores)
        try container.encode(invalidations, forKey: .invalidations)
        try container.encode(pendingInvalidations, forKey: .pendingInvalidations)
        try container.encode(breakerState, forKey: .breakerState)
        try container.encode(breakerOpenings, forKey: .breakerOpenings)
        try container.encode(connections, forKey: .connections)
        try container.encode(hitRate, forKey: .hitRate)
    }
}

/// Lock-free counters behind ``CacheStatistics``.
final class CacheCounters: Sendable {
    let hits = Atomic<Int>(0)
    let misses = Atomic<Int>(0)
    let bypassed = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
    let stores = Atomic<Int>(0)
    let invalidations = Atomic<Int>(0)

    enum Counter {
        case hit, miss, bypass, error, store, invalidation
    }

    func count(_ counter: Counter) {
        switch counter {
        case .hit: hits.add(1, ordering: .relaxed)
        case .miss: misses.add(1, ordering: .relaxed)
        case .bypass: bypassed.add(1, ordering: .relaxed)
        case .error: errors.add(1, ordering: .relaxed)
        case .store: stores.add(1, ordering: .relaxed)
        case .invalidation: invalidations.add(1, ordering: .relaxed)
        }
    }

    func statistics(backend: String, breakerState: String) -> CacheStatistics {
        CacheStatistics(
            backend: backend,
            hits: hits.load(ordering: .relaxed),
            misses: misses.load(ordering: .relaxed),
            bypassed: bypassed.load(ordering: .relaxed),
            errors: errors.load(ordering: .relaxed),
            stores: stores.load(ordering: .relaxed),
            invalidations: invalidations.load(ordering: .relaxed),
            breakerState: breakerState)
    }
}
