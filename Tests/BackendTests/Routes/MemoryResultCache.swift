import Foundation
import NIOCore
import Synchronization

@testable import Backend

/// An in-process ``ResultCache`` for route tests of cache hits and invalidation, where Redis is
/// not at hand.
///
/// It invalidates the way ``RedisResultCache`` does: each scope has a generation, a miss's ticket
/// records the generations of the key's scopes (and ``CacheScope/all``) as they were before the
/// caller computed, the result is stored under them, and ``invalidate(_:)`` bumps the
/// generations so earlier results are never read again. Entries never expire. Every
/// `invalidate` call is recorded, for tests of which write invalidates what.
final class MemoryResultCache: ResultCache {
    private struct State {
        var generations: [CacheScope: Int] = [:]
        var entries: [String: ByteBuffer] = [:]
        var hits = 0
        var misses = 0
        var stores = 0
        var invalidations: [[CacheScope]] = []
    }

    private let state = Mutex(State())

    /// How many lookups returned a stored result.
    var hits: Int { state.withLock { $0.hits } }

    /// How many lookups missed.
    var misses: Int { state.withLock { $0.misses } }

    /// Every `invalidate` call's scopes, in order.
    var invalidations: [[CacheScope]] { state.withLock { $0.invalidations } }

    func lookupJSON(_ key: CacheKey) async -> CacheLookup<StoredJSON> {
        let (storageKey, data) = state.withLock { state in
            let generations = ([CacheScope.all] + key.scopes).map { "\($0)=\(state.generations[$0, default: 0])" }
            let storageKey = "\(key.name)|\(key.parameters)|\(generations.joined(separator: ","))"
            return (storageKey, state.entries[storageKey])
        }
        if let data {
            state.withLock { $0.hits += 1 }
            return .hit(StoredJSON(json: data, ticket: CacheTicket(key: key, storageKey: storageKey)))
        }
        state.withLock { $0.misses += 1 }
        return .miss(CacheTicket(key: key, storageKey: storageKey))
    }

    func storeJSON(_ json: ByteBuffer, for ticket: CacheTicket) async {
        guard let storageKey = ticket.storageKey else { return }
        state.withLock {
            $0.entries[storageKey] = json
            $0.stores += 1
        }
    }

    func invalidate(_ scopes: [CacheScope]) async {
        state.withLock { state in
            for scope in scopes { state.generations[scope, default: 0] += 1 }
            state.invalidations.append(scopes)
        }
    }

    func statistics() async -> CacheStatistics {
        state.withLock {
            CacheStatistics(
                backend: "memory", hits: $0.hits, misses: $0.misses, stores: $0.stores,
                invalidations: $0.invalidations.count, breakerState: "disabled")
        }
    }

    func serverInfo() async -> RedisServerInfo? { nil }
}
