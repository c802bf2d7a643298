import Foundation
import Logging
import NIOCore
import Synchronization

/// ``ResultCache`` on Redis, shared by every worker, behind a ``CircuitBreaker``.
///
/// ## Invalidation by generation, not by deletion
///
/// The original deleted `thermal:rack:{id}:*` with a pattern after a write. That cannot promise
/// what the API needs, "no worker serves a stale result once a write is acknowledged": a request
/// that read the database just before the write can store its (old) result just *after* the
/// deletion, and it is then served for the whole TTL. Deleting by pattern also costs a `SCAN`
/// over the keyspace per write.
///
/// Instead each ``CacheScope`` has a generation counter (`gen:rack:{id}`, `gen:catalog`,
/// `gen:all`), and a result is stored under a key that embeds the generations of everything it
/// depends on: `thermal:rack:12:{all}.{rack 12}.{catalog}:{parameters hash}`. So:
///
/// - A write invalidates with one `INCR` per scope it touched (after its commit, before its
///   response); from then on every lookup, on every worker, reads the new generation and builds
///   a key nothing has been stored under. Old entries are never read again and expire by TTL.
/// - A lookup reads the generations (`MGET`) *before* the caller reads the database, and the
///   miss's ``CacheTicket`` keeps them. A result computed from pre-write data therefore lands
///   under the pre-write generation, where no lookup after the write looks.
/// - A missing counter starts from the clock in microseconds (`SET ... NX`), not from 0, so a
///   counter lost to eviction or a Redis restart never comes back at a number old entries were
///   stored under. Counters expire a day after they are created, which frees those of deleted
///   racks; the clock-seeded restart keeps that safe.
///
/// Each lookup costs two round trips (`MGET` of the generations, then `GET`), with no Lua.
///
/// ## When Redis is down or slow
///
/// Every operation asks the breaker first: while it is open a lookup is a miss at once (no I/O),
/// and stores are skipped. An invalidation that cannot be sent is remembered and sent before
/// anything else once Redis answers again; until then this worker bypasses the cache, because
/// Redis still holds the generation the write should have bumped. (A worker that can reach Redis
/// while another cannot would still read that generation: the cache assumes Redis is down for
/// everyone or for no one. Run it without persistence, too: a restart that reloads an old snapshot
/// brings back entries that invalidations since the snapshot had retired.)
public final class RedisResultCache: ResultCache {
    public let pool: RedisConnectionPool
    public let breaker: CircuitBreaker
    /// Prefixes every key (`homerack:`), so one Redis can serve several deployments (and tests).
    public let namespace: String
    private let counters = CacheCounters()
    /// Scopes whose invalidation has not reached Redis yet.
    private let pendingScopes = Mutex<Set<CacheScope>>([])
    private let logger: Logger

    /// Generation counters expire this long after they are created.
    static let generationLifetimeSeconds = 86_400
    /// Past this many pending scopes, one pending ``CacheScope/all`` stands for them all.
    static let maximumPendingScopes = 1024

    /// - Parameters:
    ///   - pool: the Redis connections.
    ///   - breaker: turns the cache off while Redis fails.
    ///   - namespace: prefixes every key.
    ///   - logger: failures at debug (the breaker logs the transitions).
    public init(
        pool: RedisConnectionPool,
        breaker: CircuitBreaker = CircuitBreaker(),
        namespace: String = "homerack:",
        logger: Logger = Logger(label: "backend.cache")
    ) {
        self.pool = pool
        self.breaker = breaker
        self.namespace = namespace
        self.logger = logger
    }

    /// The cache for a configuration: Redis when a URL is given, else ``NoResultCache``.
    /// - Parameters:
    ///   - redisURL: `REDIS_URL`, or `nil` for the embedded default.
    ///   - eventLoopGroup: runs the Redis connections.
    ///   - breaker: the breaker's threshold and cool-down.
    ///   - logger: for connection and breaker events.
    /// - Returns: the cache.
    /// - Throws: ``RedisError`` when the URL is invalid (not when Redis is down: that is a miss).
    public static func make(
        redisURL: String?,
        eventLoopGroup: any EventLoopGroup,
        breaker: CircuitBreaker.StateMachine.Configuration = .init(),
        logger: Logger = Logger(label: "backend.cache")
    ) throws -> any ResultCache {
        guard let redisURL, !redisURL.isEmpty else { return NoResultCache() }
        let configuration = try RedisConfiguration(url: redisURL)
        return RedisResultCache(
            pool: RedisConnectionPool(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger),
            breaker: CircuitBreaker(name: "redis", configuration: breaker, logger: logger),
            logger: logger)
    }

    // MARK: ResultCache

    public func lookupJSON(_ key: CacheKey) async -> CacheLookup<StoredJSON> {
        let unstorable = CacheTicket(key: key, storageKey: nil)
        guard await sendPendingInvalidations(), let ticket = breaker.permit() else {
            counters.count(.bypass)
            counters.count(.miss)
            return .miss(unstorable)
        }
        let storageKey: String
        let reply: RedisReply
        do {
            let generations = try await readGenerations(of: key)
            storageKey = self.storageKey(for: key, generations: generations)
            reply = try await pool.send(RedisCommand("GET", storageKey)).checked()
            breaker.succeeded(ticket)
        } catch {
            failed(ticket, error, doing: "lookup", key: key)
            counters.count(.miss)
            return .miss(unstorable)
        }

        let storable = CacheTicket(key: key, storageKey: storageKey)
        switch reply {
        case .string(let buffer):
            if let json = Self.unwrap(buffer, parameters: key.parameters) {
                counters.count(.hit)
                return .hit(StoredJSON(json: json, ticket: storable))
            }
            // Unreadable or another key's (a hash collision): the recomputed value replaces it.
            counters.count(.miss)
            return .miss(storable)
        case .null:
            counters.count(.miss)
            return .miss(storable)
        case .status, .integer, .array, .error:
            counters.count(.error)
            counters.count(.miss)
            return .miss(storable)
        }
    }

    public func storeJSON(_ json: ByteBuffer, for ticket: CacheTicket) async {
        guard let storageKey = ticket.storageKey else { return }
        // An invalidation this worker owes Redis may make the ticket's generations stale.
        guard pendingScopes.withLock({ $0.isEmpty }) else { return }
        let payload = Self.wrap(json, parameters: ticket.key.parameters)
        guard let permit = breaker.permit() else { return }
        let ttl = ticket.key.ttl.components
        let milliseconds = max(1, ttl.seconds * 1000 + ttl.attoseconds / 1_000_000_000_000_000)
        do {
            _ = try await pool.send(RedisCommand("SET", storageKey, Array(payload), "PX", milliseconds)).checked()
            breaker.succeeded(permit)
            counters.count(.store)
        } catch {
            failed(permit, error, doing: "store", key: ticket.key)
        }
    }

    public func invalidate(_ scopes: [CacheScope]) async {
        guard !scopes.isEmpty else { return }
        counters.count(.invalidation)
        let scopes = Array(Set(scopes))
        guard let ticket = breaker.permit() else {
            remember(scopes)
            return
        }
        do {
            try await bump(scopes)
            breaker.succeeded(ticket)
        } catch {
            failed(ticket, error, doing: "invalidate", key: nil)
            remember(scopes)
        }
    }

    public func statistics() async -> CacheStatistics {
        var statistics = counters.statistics(backend: "redis", breakerState: breaker.mode.rawValue)
        statistics.pendingInvalidations = pendingScopes.withLock { $0.count }
        statistics.breakerOpenings = breaker.timesOpened
        statistics.connections = pool.openConnections
        return statistics
    }

    public func serverInfo() async -> RedisServerInfo? {
        guard let ticket = breaker.permit() else { return nil }
        do {
            let info = try await pool.info()
            breaker.succeeded(ticket)
            return info
        } catch {
            failed(ticket, error, doing: "info", key: nil)
            return nil
        }
    }

    /// Retires every cached result (`POST /api/health/cache/clear`).
    public func invalidateAll() async {
        await invalidate([.all])
    }

    /// Closes the connections.
    public func shutdown() async {
        await pool.shutdown()
    }

    // MARK: Generations

    /// The generations of `.all` and of the key's scopes, in that order, creating missing counters.
    private func readGenerations(of key: CacheKey) async throws -> [Int64] {
        let keys = ([CacheScope.all] + key.scopes).map { namespace + $0.generationKey }
        let reply = try await pool.send(RedisCommand("MGET", arguments: keys)).checked()
        if let generations = Self.generations(reply, count: keys.count) { return generations }

        guard let values = reply.array else { throw RedisError.unexpectedReply(reply, expected: "an array") }
        let seed = Self.generationSeed()
        var commands = zip(keys, values).filter { $0.1.isNull }.map { key, _ in
            RedisCommand("SET", key, seed, "NX", "EX", Self.generationLifetimeSeconds)
        }
        commands.append(RedisCommand("MGET", arguments: keys))
        let replies = try await pool.pipeline(commands)
        for reply in replies { _ = try reply.checked() }
        guard let last = replies.last, let generations = Self.generations(last, count: keys.count) else {
            throw RedisError.unexpectedReply(replies.last ?? .null, expected: "\(keys.count) integer generations")
        }
        return generations
    }

    private static func generations(_ reply: RedisReply, count: Int) -> [Int64]? {
        guard let values = reply.array, values.count == count else { return nil }
        let generations = values.compactMap(\.integer)
        return generations.count == count ? generations : nil
    }

    /// Microseconds since 1970: larger than anything a counter seeded earlier can have reached.
    private static func generationSeed() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1_000_000)
    }

    /// Bumps each scope's counter in one pipeline. `INCR` alone would create a missing counter at 1,
    /// a number it may have had before, so each one is seeded first when missing.
    private func bump(_ scopes: [CacheScope]) async throws {
        let seed = Self.generationSeed()
        var commands: [RedisCommand] = []
        for scope in scopes {
            let key = namespace + scope.generationKey
            commands.append(RedisCommand("SET", key, seed, "NX", "EX", Self.generationLifetimeSeconds))
            commands.append(RedisCommand("INCR", key))
        }
        for reply in try await pool.pipeline(commands) { _ = try reply.checked() }
    }

    private func remember(_ scopes: [CacheScope]) {
        let count = pendingScopes.withLock { pending in
            pending.formUnion(scopes)
            if pending.count > Self.maximumPendingScopes { pending = [.all] }
            return pending.count
        }
        logger.debug("invalidation pending until Redis answers", metadata: ["backend.cache.pending": "\(count)"])
    }

    /// Sends the invalidations Redis missed, if any.
    /// - Returns: whether none is left, i.e. the cache may be read.
    private func sendPendingInvalidations() async -> Bool {
        let scopes = pendingScopes.withLock { Array($0) }
        if scopes.isEmpty { return true }
        guard let ticket = breaker.permit() else { return false }
        do {
            try await bump(scopes)
            breaker.succeeded(ticket)
        } catch {
            failed(ticket, error, doing: "invalidate", key: nil)
            return false
        }
        let left = pendingScopes.withLock { pending in
            pending.subtract(scopes)
            return pending.count
        }
        logger.info("pending cache invalidations sent", metadata: ["backend.cache.scopes": "\(scopes.count)"])
        return left == 0
    }

    // MARK: Keys and values

    /// `{namespace}{name}:{generations}:{parameters hash}`.
    func storageKey(for key: CacheKey, generations: [Int64]) -> String {
        namespace + key.name + ":" + generations.map(String.init).joined(separator: ".") + ":" + key.parametersHash
    }

    /// A stored entry: `<length of the parameters>:<parameters><the result's JSON>`. The full
    /// parameters are compared on read (a hash collision is a miss, never another request's
    /// result), and the JSON after them is handed out as it is.
    static func wrap(_ json: ByteBuffer, parameters: String) -> [UInt8] {
        var payload = Array("\(parameters.utf8.count):\(parameters)".utf8)
        payload.append(contentsOf: json.readableBytesView)
        return payload
    }

    /// The JSON of an entry stored for `parameters`, or `nil` for another key's entry or one
    /// written by an older build (recomputed and replaced).
    static func unwrap(_ payload: ByteBuffer, parameters: String) -> ByteBuffer? {
        let bytes = payload.readableBytesView
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon - bytes.startIndex <= 10,
            let length = Int(String(decoding: bytes[bytes.startIndex..<colon], as: UTF8.self)),
            length >= 0, bytes.endIndex - colon - 1 >= length
        else { return nil }
        let parametersStart = colon + 1
        let jsonStart = parametersStart + length
        guard bytes[parametersStart..<jsonStart].elementsEqual(parameters.utf8) else { return nil }
        return payload.getSlice(at: payload.readerIndex + (jsonStart - bytes.startIndex), length: bytes.endIndex - jsonStart)
    }

    private func failed(
        _ ticket: CircuitBreaker.StateMachine.Ticket, _ error: any Error, doing operation: String, key: CacheKey?
    ) {
        breaker.failed(ticket, error: error)
        counters.count(.error)
        var metadata: Logger.Metadata = ["backend.cache.operation": "\(operation)", "backend.cache.error": "\(error)"]
        if let key { metadata["backend.cache.kind"] = "\(key.kind)" }
        logger.debug("cache operation failed", metadata: metadata)
    }
}
