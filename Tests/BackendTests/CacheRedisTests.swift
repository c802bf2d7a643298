import Foundation
import NIOCore
import NIOPosix
import RackPlanning
import Testing

@testable import Backend

/// A result as the routes would cache it.
struct CacheTestThermal: Codable, Hashable, Sendable {
    var rackID: Int
    var totalHeatBTU: Double
    var note: String
}

/// ``RedisResultCache`` against the shared test Redis, each test under its own namespace.
@Suite("Result cache on Redis", .enabled(if: RedisTestServer.required))
struct CacheRedisTests {
    private static func makeCache(
        _ label: String,
        breaker: CircuitBreaker.StateMachine.Configuration = .init()
    ) throws -> RedisResultCache {
        let pool = RedisConnectionPool(
            configuration: try RedisTestServer.configuration(), eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        return RedisResultCache(
            pool: pool, breaker: CircuitBreaker(configuration: breaker),
            namespace: RedisTestServer.uniqueNamespace(label))
    }

    private func keys(_ cache: RedisResultCache, matching pattern: String) async throws -> [String] {
        let reply = try await cache.pool.send(RedisCommand("KEYS", cache.namespace + pattern))
        return (reply.array ?? []).compactMap(\.string).sorted()
    }

    @Test func missesThenHits() async throws {
        let cache = try Self.makeCache("hit")
        defer { Task { await cache.shutdown() } }
        let key = CacheKey.thermal(rack: 1)
        let value = CacheTestThermal(rackID: 1, totalHeatBTU: 1706.5, note: "ünïcode ✓")

        guard case .miss(let ticket) = await cache.lookup(key, as: CacheTestThermal.self) else {
            Issue.record("an empty cache hit")
            return
        }
        await cache.store(value, for: ticket)
        #expect(await cache.lookup(key, as: CacheTestThermal.self).value == value)

        let statistics = await cache.statistics()
        #expect(statistics.backend == "redis")
        #expect(statistics.hits == 1)
        #expect(statistics.misses == 1)
        #expect(statistics.stores == 1)
        #expect(statistics.errors == 0)
        #expect(statistics.breakerState == "closed")
        #expect(statistics.hitRate == 0.5)
    }

    @Test func cachedComputesOnlyOnAMiss() async throws {
        let cache = try Self.makeCache("cached")
        defer { Task { await cache.shutdown() } }
        var computed = 0
        for _ in 0..<5 {
            let value = try await cache.cached(.layout(rack: 3)) { () async throws -> [Int] in
                computed += 1
                return [1, 2, 3]
            }
            #expect(value == [1, 2, 3])
        }
        #expect(computed == 1)
    }

    @Test func aComputationThatThrowsIsNotCached() async throws {
        struct Boom: Error {}
        let cache = try Self.makeCache("throws")
        defer { Task { await cache.shutdown() } }
        await #expect(throws: Boom.self) {
            _ = try await cache.cached(.layout(rack: 1)) { () async throws -> Int in throw Boom() }
        }
        #expect(try await cache.cached(.layout(rack: 1)) { 7 } == 7)
    }

    @Test func storesWithTheTTLOfTheTable() async throws {
        let cache = try Self.makeCache("ttl-table")
        defer { Task { await cache.shutdown() } }
        let expected: [(CacheKey, Int64)] = [
            (.thermal(rack: 1), 300_000), (.optimization(rack: 1, weights: .standard, lockedDevices: [3]), 600_000),
            (.specSearch(query: "dell"), 3_600_000), (.specification(id: 4), 3_600_000), (.layout(rack: 1), 600_000),
        ]
        for (key, milliseconds) in expected {
            let started = ContinuousClock.now
            _ = try await cache.cached(key) { "value" }
            let stored = try await keys(cache, matching: key.name + ":*")
            #expect(stored.count == 1, "one entry for \(key.name)")
            let ttl = try await cache.pool.send(RedisCommand("PTTL", stored.first ?? "")).integer ?? -1
            // The TTL counts down from the table's value while the store and the PTTL run: allow
            // for however long they took (seconds on a loaded machine), plus a second.
            let (seconds, attoseconds) = (ContinuousClock.now - started).components
            let elapsed = seconds * 1000 + attoseconds / 1_000_000_000_000_000
            #expect(ttl >= milliseconds - elapsed - 1_000 && ttl <= milliseconds, "\(key.name) keeps \(ttl) ms")
        }
    }

    @Test func anEntryExpiresAfterItsTTL() async throws {
        let cache = try Self.makeCache("ttl-expiry")
        defer { Task { await cache.shutdown() } }
        // Long enough that the first lookup comes before expiry even while the whole parallel
        // suite starts (the test pool can be held for 20 s then).
        let key = CacheKey.thermal(rack: 1).expiring(after: .seconds(10))
        _ = try await cache.cached(key) { 1 }
        #expect(await cache.lookup(key, as: Int.self).isHit)
        let expired = await RedisTestServer.eventually(timeout: .seconds(60), every: .milliseconds(200)) {
            !(await cache.lookup(key, as: Int.self).isHit)
        }
        #expect(expired)
    }

    @Test func aRackWriteInvalidatesThatRacksResultsOnly() async throws {
        let cache = try Self.makeCache("invalidate-rack")
        defer { Task { await cache.shutdown() } }
        let rack1 = [
            CacheKey.thermal(rack: 1), .layout(rack: 1), .optimization(rack: 1, weights: .standard, lockedDevices: []),
        ]
        let others = [CacheKey.thermal(rack: 2), .specSearch(query: "x"), .specification(id: 1)]
        for key in rack1 + others { _ = try await cache.cached(key) { 1 } }

        await cache.invalidate(.rack(1))
        for key in rack1 { #expect(!(await cache.lookup(key, as: Int.self).isHit), "\(key.name) invalidated") }
        for key in others { #expect(await cache.lookup(key, as: Int.self).isHit, "\(key.name) kept") }
    }

    @Test func aCatalogWriteInvalidatesSearchesSpecsAndRackResults() async throws {
        let cache = try Self.makeCache("invalidate-catalog")
        defer { Task { await cache.shutdown() } }
        let keys = [CacheKey.thermal(rack: 1), .layout(rack: 2), .specSearch(query: "x"), .specification(id: 1)]
        for key in keys { _ = try await cache.cached(key) { 1 } }
        await cache.invalidate(.catalog)
        for key in keys { #expect(!(await cache.lookup(key, as: Int.self).isHit), "\(key.name) invalidated") }
    }

    @Test func clearingTheCacheInvalidatesEverything() async throws {
        let cache = try Self.makeCache("invalidate-all")
        defer { Task { await cache.shutdown() } }
        let keys = [CacheKey.thermal(rack: 1), .specSearch(query: "x"), .specification(id: 9)]
        for key in keys { _ = try await cache.cached(key) { 1 } }
        await cache.invalidateAll()
        for key in keys { #expect(!(await cache.lookup(key, as: Int.self).isHit)) }
    }

    @Test func invalidationReachesEveryWorker() async throws {
        // Two caches on one namespace stand for two workers.
        let worker1 = try Self.makeCache("workers")
        let pool2 = RedisConnectionPool(
            configuration: try RedisTestServer.configuration(), eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        let worker2 = RedisResultCache(pool: pool2, namespace: worker1.namespace)
        defer {
            Task {
                await worker1.shutdown(); await worker2.shutdown()
            }
        }

        _ = try await worker1.cached(.thermal(rack: 5)) { "before" }
        #expect(await worker2.lookup(.thermal(rack: 5), as: String.self).value == "before")
        await worker1.invalidate(.rack(5))
        #expect(try await worker2.cached(.thermal(rack: 5)) { "after" } == "after")
        #expect(await worker1.lookup(.thermal(rack: 5), as: String.self).value == "after")
    }

    @Test func aResultComputedBeforeAWriteIsNeverServedAfterIt() async throws {
        let cache = try Self.makeCache("race")
        defer { Task { await cache.shutdown() } }
        let key = CacheKey.thermal(rack: 8)
        // A reader misses and reads the database...
        guard case .miss(let ticket) = await cache.lookup(key, as: String.self) else {
            Issue.record("an empty cache hit")
            return
        }
        // ...a write commits and invalidates meanwhile...
        await cache.invalidate(.rack(8))
        // ...and the reader stores what it read before the write.
        await cache.store("pre-write", for: ticket)
        #expect(await cache.lookup(key, as: String.self).value == nil)
    }

    @Test func parametersSelectTheEntry() async throws {
        let cache = try Self.makeCache("parameters")
        defer { Task { await cache.shutdown() } }
        _ = try await cache.cached(.specSearch(query: "dell")) { ["PowerEdge"] }
        _ = try await cache.cached(.specSearch(query: "hp")) { ["ProLiant"] }
        #expect(await cache.lookup(.specSearch(query: "dell"), as: [String].self).value == ["PowerEdge"])
        #expect(await cache.lookup(.specSearch(query: "hp"), as: [String].self).value == ["ProLiant"])
        #expect(
            await cache.lookup(.specSearch(query: "dell", filters: ["source": "community"]), as: [String].self).value
                == nil)
    }

    @Test func anEntryForOtherParametersUnderTheSameHashIsAMiss() async throws {
        let cache = try Self.makeCache("collision")
        defer { Task { await cache.shutdown() } }
        let wanted = CacheKey.specSearch(query: "wanted")
        var impostor = CacheKey.specSearch(query: "impostor")
        guard case .miss(let ticket) = await cache.lookup(wanted, as: String.self), let storageKey = ticket.storageKey
        else {
            Issue.record("expected a storable miss")
            return
        }
        // Forge a hash collision: the impostor's value under the wanted key's Redis key.
        impostor.name = wanted.name
        await cache.store("impostor's result", for: CacheTicket(key: impostor, storageKey: storageKey))
        #expect(try await cache.pool.send(RedisCommand("EXISTS", storageKey)) == .integer(1))
        #expect(await cache.lookup(wanted, as: String.self).value == nil)
    }

    @Test func anUnreadableEntryIsAMissAndGetsReplaced() async throws {
        let cache = try Self.makeCache("unreadable")
        defer { Task { await cache.shutdown() } }
        _ = try await cache.cached(.layout(rack: 1)) { "text" }
        // Read back as another type (a deploy changed the shape): a miss, not a failure.
        #expect(try await cache.cached(.layout(rack: 1)) { 99 } == 99)
        #expect(await cache.lookup(.layout(rack: 1), as: Int.self).value == 99)
        let statistics = await cache.statistics()
        #expect(statistics.breakerState == "closed")
    }

    @Test func startsAMissingGenerationFromTheClock() async throws {
        let cache = try Self.makeCache("generation")
        defer { Task { await cache.shutdown() } }
        _ = try await cache.cached(.thermal(rack: 4)) { 1 }
        let generation = try await cache.pool.send(RedisCommand("GET", cache.namespace + "gen:rack:4")).integer ?? 0
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        #expect(abs(now - generation) < 60_000_000, "seeded with the time in microseconds")
        let ttl = try await cache.pool.send(RedisCommand("TTL", cache.namespace + "gen:rack:4")).integer ?? 0
        #expect(ttl > 86_000 && ttl <= 86_400)

        // Lost (evicted, restarted): the next counter starts higher, never at an old number.
        _ = try await cache.pool.send(RedisCommand("DEL", cache.namespace + "gen:rack:4"))
        await cache.invalidate(.rack(4))
        let reseeded = try await cache.pool.send(RedisCommand("GET", cache.namespace + "gen:rack:4")).integer ?? 0
        #expect(reseeded > generation)
    }

    @Test func anInvalidationRedisMissedIsSentBeforeTheCacheIsReadAgain() async throws {
        let cache = try Self.makeCache("pending", breaker: .init(failureThreshold: 1, coolDown: .milliseconds(200)))
        defer { Task { await cache.shutdown() } }
        let key = CacheKey.thermal(rack: 6)
        _ = try await cache.cached(key) { "old" }

        // Redis "fails" (the breaker opens) just as a write commits: its invalidation cannot be sent.
        let ticket = try #require(cache.breaker.permit())
        cache.breaker.failed(ticket, error: RedisError.connectionClosed())
        #expect(cache.breaker.mode == .open)
        await cache.invalidate(.rack(6))
        #expect(await cache.statistics().pendingInvalidations == 1)
        #expect(await cache.lookup(key, as: String.self).value == nil, "bypassed while open")

        // Redis answers again; the old entry is still in it, under the generation the write should have bumped.
        // Every lookup until the cool-down's probe closes the breaker misses; none sees "old".
        let closed = await RedisTestServer.eventually(timeout: .seconds(10), every: .milliseconds(20)) {
            #expect(await cache.lookup(key, as: String.self).value == nil, "never the pre-write result")
            return cache.breaker.mode == .closed
        }
        #expect(closed)
        #expect(await cache.statistics().pendingInvalidations == 0)
        #expect(await cache.lookup(key, as: String.self).value == nil, "never the pre-write result")
        _ = try await cache.cached(key) { "new" }
        #expect(await cache.lookup(key, as: String.self).value == "new")
    }

    @Test func reportsServerInfo() async throws {
        let cache = try Self.makeCache("info")
        defer { Task { await cache.shutdown() } }
        let info = try #require(await cache.serverInfo())
        #expect(info.version != nil)
        #expect(info.usedMemoryBytes != nil)
        #expect(info.connectedClients != nil)
        #expect(info.uptimeSeconds != nil)
    }

    @Test func statisticsEncodeForTheStatsEndpoint() async throws {
        let cache = try Self.makeCache("stats-json")
        defer { Task { await cache.shutdown() } }
        _ = await cache.lookup(.thermal(rack: 1), as: Int.self)
        let json =
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(await cache.statistics())) as? [String: Any]
        #expect(json?["breaker_state"] as? String == "closed")
        #expect(json?["misses"] as? Int == 1)
        #expect(json?["hit_rate"] as? Double == 0)
        #expect(json?["backend"] as? String == "redis")
    }
}
