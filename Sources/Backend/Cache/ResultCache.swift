/// A cross-worker cache of computed results (thermal analyses, optimizations, searches), where
/// failure is always a miss: no cache error ever fails a request.
///
/// A lookup that misses hands back a ``CacheTicket``; the caller computes the result from the
/// database and stores it with that ticket. The ticket pins the cache's view of the data as it was
/// *before* the computation, so a result computed from data that a concurrent write has since
/// replaced is stored where no later lookup looks. ``cached(_:as:compute:)`` does all of this.
///
/// Writes call ``invalidate(_:)`` with the scopes they touched (see ``CacheScope``) after the
/// database commit and before answering; once it returns, no lookup on any worker returns a
/// result computed before the write.
public protocol ResultCache: Sendable {
    /// Looks a result up.
    /// - Parameters:
    ///   - key: which result.
    ///   - type: what it decodes to.
    /// - Returns: the value, or a miss with the ticket to store a computed value with.
    func lookup<Value: Decodable>(_ key: CacheKey, as type: Value.Type) async -> CacheLookup<Value>

    /// Stores a result computed after a miss.
    /// - Parameters:
    ///   - value: the result, stored as JSON for the key's TTL.
    ///   - ticket: from the miss.
    func store<Value: Encodable>(_ value: Value, for ticket: CacheTicket) async

    /// Makes every result that depends on any of `scopes` unreachable, for every worker.
    /// - Parameter scopes: what a write changed.
    func invalidate(_ scopes: [CacheScope]) async

    /// Counters and breaker state for `/api/health/cache/stats`.
    func statistics() async -> CacheStatistics

    /// The server's `INFO` for `/api/health/detailed`; `nil` without a server or when it does not answer.
    func serverInfo() async -> RedisServerInfo?
}

extension ResultCache {
    /// The cached result for `key`, or `compute()`'s, which is then stored.
    /// - Parameters:
    ///   - key: which result.
    ///   - type: what it decodes to.
    ///   - compute: computes the result from the database; runs only on a miss.
    /// - Returns: the cached or computed value.
    /// - Throws: only what `compute` throws; cache failures are misses.
    public func cached<Value: Codable>(
        _ key: CacheKey,
        as type: Value.Type = Value.self,
        compute: () async throws -> Value
    ) async throws -> Value {
        switch await lookup(key, as: type) {
        case .hit(let value):
            return value
        case .miss(let ticket):
            let value = try await compute()
            await store(value, for: ticket)
            return value
        }
    }

    /// Invalidates one scope.
    public func invalidate(_ scope: CacheScope) async {
        await invalidate([scope])
    }
}

/// The outcome of ``ResultCache/lookup(_:as:)``.
public enum CacheLookup<Value> {
    case hit(Value)
    /// Not cached (or the cache is unavailable): compute, then store with the ticket.
    case miss(CacheTicket)
}

extension CacheLookup: Sendable where Value: Sendable {}

extension CacheLookup {
    /// The value of a hit.
    public var value: Value? {
        if case .hit(let value) = self { return value }
        return nil
    }

    public var isHit: Bool { value != nil }
}

/// Where a result computed after a miss may be stored.
public struct CacheTicket: Sendable, Hashable {
    public let key: CacheKey
    /// The Redis key holding the generations read before the caller computed its result, or
    /// `nil` when the result must not be stored (no cache, Redis unavailable).
    let storageKey: String?

    init(key: CacheKey, storageKey: String?) {
        self.key = key
        self.storageKey = storageKey
    }
}
