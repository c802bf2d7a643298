import NIOCore

/// The cache of the embedded default (no Redis URL): every lookup misses and nothing is stored,
/// so every result is computed from the database and always current.
public struct NoResultCache: ResultCache {
    private let counters = CacheCounters()

    public init() {}

    public func lookupJSON(_ key: CacheKey) async -> CacheLookup<StoredJSON> {
        counters.count(.miss)
        return .miss(CacheTicket(key: key, storageKey: nil))
    }

    public func storeJSON(_ json: ByteBuffer, for ticket: CacheTicket) async {}

    public func invalidate(_ scopes: [CacheScope]) async {}

    public func statistics() async -> CacheStatistics {
        counters.statistics(backend: "none", breakerState: "disabled")
    }

    public func serverInfo() async -> RedisServerInfo? { nil }
}
