import Foundation
import NIOCore

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
    /// Looks a result up, as the JSON it was stored as.
    ///
    /// Results are kept as the API's JSON (``JSONEncoder/api``), so a route that answers with the
    /// result unchanged sends the stored bytes as they are, without decoding and re-encoding them
    /// (``cachedJSON(_:compute:)``; decoding a large layout cost more than reading it from the
    /// database). ``lookup(_:as:)`` decodes them for callers that change the result.
    /// - Parameter key: which result.
    /// - Returns: the stored JSON, or a miss with the ticket to store a computed value with.
    func lookupJSON(_ key: CacheKey) async -> CacheLookup<StoredJSON>

    /// Stores a result computed after a miss.
    /// - Parameters:
    ///   - json: the result as the API's JSON, stored for the key's TTL.
    ///   - ticket: from the miss.
    func storeJSON(_ json: ByteBuffer, for ticket: CacheTicket) async

    /// Makes every result that depends on any of `scopes` unreachable, for every worker.
    /// - Parameter scopes: what a write changed.
    func invalidate(_ scopes: [CacheScope]) async

    /// Counters and breaker state for `/api/health/cache/stats`.
    func statistics() async -> CacheStatistics

    /// The server's `INFO` for `/api/health/detailed`; `nil` without a server or when it does not answer.
    func serverInfo() async -> RedisServerInfo?
}

extension ResultCache {
    /// Looks a result up and decodes it.
    /// - Parameters:
    ///   - key: which result.
    ///   - type: what it decodes to.
    /// - Returns: the value, or a miss with the ticket to store a computed value with. A stored
    ///   value that no longer decodes (written by another build) is a miss that is not stored.
    public func lookup<Value: Decodable>(_ key: CacheKey, as type: Value.Type) async -> CacheLookup<Value> {
        switch await lookupJSON(key) {
        case .hit(let stored):
            // A value another build wrote in another shape: recomputed, and replaced.
            guard let value = try? JSONDecoder().decode(Value.self, from: stored.json) else {
                return .miss(stored.ticket)
            }
            return .hit(value)
        case .miss(let ticket):
            return .miss(ticket)
        }
    }

    /// Stores a result computed after a miss, encoded as the API's JSON.
    public func store<Value: Encodable>(_ value: Value, for ticket: CacheTicket) async {
        guard ticket.storageKey != nil, let json = try? JSONEncoder.api.encode(value) else { return }
        await storeJSON(ByteBuffer(bytes: json), for: ticket)
    }

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

    /// The cached result for `key` as the API's JSON, or `compute()`'s, encoded and stored: for
    /// routes that answer with the result unchanged.
    /// - Throws: what `compute` or encoding throws; cache failures are misses.
    public func cachedJSON<Value: Encodable>(
        _ key: CacheKey,
        compute: () async throws -> Value
    ) async throws -> ByteBuffer {
        try await cachedJSON(key, computeJSON: { ByteBuffer(bytes: try JSONEncoder.api.encode(try await compute())) })
    }

    /// The cached result for `key` as the API's JSON, or the JSON `computeJSON()` writes, which
    /// is then stored: for results whose JSON is written without `JSONEncoder` (a layout).
    /// - Parameter computeJSON: computes the result and writes it as ``JSONEncoder/api`` would;
    ///   runs only on a miss.
    /// - Throws: what `computeJSON` throws; cache failures are misses.
    public func cachedJSON(
        _ key: CacheKey,
        computeJSON: () async throws -> ByteBuffer
    ) async throws -> ByteBuffer {
        switch await lookupJSON(key) {
        case .hit(let stored):
            return stored.json
        case .miss(let ticket):
            let json = try await computeJSON()
            await storeJSON(json, for: ticket)
            return json
        }
    }

    /// Invalidates one scope.
    public func invalidate(_ scope: CacheScope) async {
        await invalidate([scope])
    }
}

/// A result found by ``ResultCache/lookupJSON(_:)``: its JSON, and the ticket that replaces it
/// should the caller find it unusable.
public struct StoredJSON: Sendable {
    public let json: ByteBuffer
    public let ticket: CacheTicket

    public init(json: ByteBuffer, ticket: CacheTicket) {
        self.json = json
        self.ticket = ticket
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
