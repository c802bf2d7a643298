import NIOPosix
import RackPlanning
import Testing

@testable import Backend

@Suite("Cache keys")
struct CacheKeyTests {
    @Test func followsTheTTLTableOfTheAPIReference() {
        #expect(CacheKey.thermal(rack: 1).ttl == .seconds(300))
        #expect(CacheKey.optimization(rack: 1, weights: .standard, lockedDevices: []).ttl == .seconds(600))
        #expect(CacheKey.specSearch(query: "dell").ttl == .seconds(3600))
        #expect(CacheKey.specification(id: 1).ttl == .seconds(3600))
        #expect(CacheKey.layout(rack: 1).ttl == .seconds(600))
    }

    @Test func rackResultsDependOnTheirRackAndTheCatalog() {
        #expect(CacheKey.thermal(rack: 7).scopes == [.rack(7), .catalog])
        #expect(CacheKey.optimization(rack: 7, weights: .standard, lockedDevices: []).scopes == [.rack(7), .catalog])
        #expect(CacheKey.layout(rack: 7).scopes == [.rack(7), .catalog])
        #expect(CacheKey.specSearch(query: "x").scopes == [.catalog])
        #expect(CacheKey.specification(id: 3).scopes == [.catalog])
    }

    @Test func namesKeysAsTheAPIReferenceDoes() {
        #expect(CacheKey.thermal(rack: 12).name == "thermal:rack:12")
        #expect(CacheKey.optimization(rack: 12, weights: .standard, lockedDevices: []).name == "optimization:rack:12")
        #expect(CacheKey.specSearch(query: "x").name == "search:specs")
        #expect(CacheKey.layout(rack: 12).name == "layout:rack:12")
    }

    @Test func optimizationKeysIgnoreTheOrderAndRepeatsOfLockedDevices() {
        let a = CacheKey.optimization(rack: 1, weights: .standard, lockedDevices: [9, 2, 5])
        let b = CacheKey.optimization(rack: 1, weights: .standard, lockedDevices: [5, 9, 2, 2])
        #expect(a == b)
        #expect(a.parameters == "cable=0.3;weight=0.25;thermal=0.25;access=0.2;locked=2,5,9")
        let other = CacheKey.optimization(
            rack: 1, weights: OptimizationWeights(cable: 0.25, weight: 0.3), lockedDevices: [2, 5, 9])
        #expect(a.parametersHash != other.parametersHash)
        #expect(CacheKey.optimization(rack: 1, request: OptimizationRequest(lockedPositions: [9, 5, 2])) == a)
    }

    @Test func searchParametersCannotImitateEachOther() {
        let plain = CacheKey.specSearch(query: "a\",\"f\":{\"x\":\"1\"}")
        let filtered = CacheKey.specSearch(query: "a", filters: ["x": "1"])
        #expect(plain.parameters != filtered.parameters)
        #expect(
            CacheKey.specSearch(query: "a", filters: ["b": "1", "a": "2"]).parameters
                == #"{"f":{"a":"2","b":"1"},"q":"a"}"#)
    }

    @Test func hashesParametersToSixteenHexDigits() {
        #expect(CacheKey.thermal(rack: 1).parametersHash == "-")
        let hash = CacheKey.specSearch(query: "dell").parametersHash
        #expect(hash.count == 16)
        #expect(hash.allSatisfy { $0.isHexDigit })
        #expect(hash == CacheKey.specSearch(query: "dell").parametersHash)
        #expect(hash != CacheKey.specSearch(query: "Dell").parametersHash)
    }

    @Test func aKeyCanBeGivenAShorterTTL() {
        let key = CacheKey.thermal(rack: 1).expiring(after: .milliseconds(200))
        #expect(key.ttl == .milliseconds(200))
        #expect(key.name == "thermal:rack:1")
    }
}

@Suite("No result cache (embedded default)")
struct CacheNoneTests {
    @Test func alwaysMissesAndNeverStores() async throws {
        let cache = NoResultCache()
        let key = CacheKey.thermal(rack: 1)
        var computed = 0
        for _ in 0..<3 {
            let value = try await cache.cached(key) { () async throws -> Int in
                computed += 1
                return 42
            }
            #expect(value == 42)
        }
        #expect(computed == 3)
        await cache.invalidate(.rack(1))
        let statistics = await cache.statistics()
        #expect(statistics.backend == "none")
        #expect(statistics.breakerState == "disabled")
        #expect(statistics.hits == 0)
        #expect(statistics.misses == 3)
        #expect(await cache.serverInfo() == nil)
    }

    @Test func isWhatTheFactoryMakesWithoutARedisURL() throws {
        #expect(
            try RedisResultCache.make(redisURL: nil, eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
                is NoResultCache)
        #expect(
            try RedisResultCache.make(redisURL: "", eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
                is NoResultCache)
        #expect(
            try RedisResultCache.make(
                redisURL: "redis://127.0.0.1:1", eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
                is RedisResultCache)
        #expect(throws: RedisError.self) {
            try RedisResultCache.make(redisURL: "http://x", eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        }
    }
}
