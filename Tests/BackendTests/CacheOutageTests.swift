import Backend
import NIOCore
import NIOPosix
import Testing

/// Redis killed mid-run, on a server of the test's own: the breaker opens, lookups are fast
/// misses, the "API" (``ResultCache/cached(_:as:compute:)``) keeps answering, and once Redis is
/// back on the same port the breaker closes by itself.
@Suite("Result cache when Redis dies", .enabled(if: RedisTestServer.required))
struct CacheOutageTests {
    @Test func cachingTurnsOffWhileRedisIsDownAndBackOnWhenItReturns() async throws {
        let server = try await RedisServerProcess()
        defer { server.kill() }
        var configuration = try RedisConfiguration(url: server.url)
        // Deadlines for a loaded machine: once Redis is killed its port refuses at once, so
        // they do not slow the breaker's opening; a CI run timed out the first lookup at 500 ms.
        configuration.commandTimeout = .seconds(5)
        configuration.connectTimeout = .seconds(5)
        let pool = RedisConnectionPool(
            configuration: configuration, eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        let breaker = CircuitBreaker(configuration: .init(failureThreshold: 5, coolDown: .milliseconds(300)))
        let cache = RedisResultCache(pool: pool, breaker: breaker, namespace: "outage:")
        defer { Task { await cache.shutdown() } }

        // Up: a stored result is served.
        let key = CacheKey.thermal(rack: 1)
        #expect(try await cache.cached(key) { "from database" } == "from database")
        #expect(await cache.lookup(key, as: String.self).value == "from database")
        #expect(breaker.mode == .closed)

        // Killed (SIGKILL, by PID): every lookup is a miss; five failures open the breaker.
        server.kill()
        var lookupsUntilOpen = 0
        let opened = await RedisTestServer.eventually(timeout: .seconds(10), every: .milliseconds(1)) {
            lookupsUntilOpen += 1
            #expect(await cache.lookup(key, as: String.self).value == nil)
            return breaker.mode == .open
        }
        #expect(opened)
        #expect(lookupsUntilOpen <= 6, "five consecutive failures open it (took \(lookupsUntilOpen) lookups)")
        #expect(breaker.timesOpened == 1)

        // Open: misses come back without asking Redis (each counted as bypassed, none as an
        // error), and the API still answers from the database.
        let before = await cache.statistics()
        let openingsBefore = breaker.timesOpened
        let started = ContinuousClock.now
        for _ in 0..<1000 {
            #expect(await cache.lookup(key, as: String.self).value == nil)
        }
        let elapsed = ContinuousClock.now - started
        let during = await cache.statistics()
        // Only the cool-down's probes (at most one per 300 ms, each reopening the breaker) asked Redis.
        let probes = breaker.timesOpened - openingsBefore
        #expect(probes <= Int(elapsed / .milliseconds(300)) + 1)
        #expect(
            during.bypassed - before.bypassed >= 1000 - probes,
            "\(during.bypassed - before.bypassed) of 1000 lookups bypassed Redis with \(probes) probes")
        #expect(try await cache.cached(key) { "recomputed" } == "recomputed")
        await cache.invalidate(.rack(1))
        #expect(await cache.statistics().pendingInvalidations == 1)
        #expect(await cache.serverInfo() == nil)

        // Still down after the cool-down: the probe fails and the breaker opens again, by itself.
        let openings = breaker.timesOpened
        let reopened = await RedisTestServer.eventually(timeout: .seconds(10), every: .milliseconds(20)) {
            #expect(await cache.lookup(key, as: String.self).value == nil)
            return breaker.timesOpened == openings + 1
        }
        #expect(reopened)
        #expect(breaker.mode == .open)

        // Back on the same port: the next probe succeeds and caching resumes with no one's help.
        try await server.start()
        let closed = await RedisTestServer.eventually(timeout: .seconds(10), every: .milliseconds(50)) {
            _ = await cache.lookup(key, as: String.self)
            return breaker.mode == .closed
        }
        #expect(closed)
        #expect(await cache.statistics().pendingInvalidations == 0)
        #expect(try await cache.cached(key) { "after restart" } == "after restart")
        #expect(await cache.lookup(key, as: String.self).value == "after restart")
        #expect(await cache.serverInfo()?.uptimeSeconds != nil)
    }

    @Test func aSlowRedisOpensTheBreakerOnTheFirstTimeout() async throws {
        let server = try await RedisServerProcess()
        defer { server.kill() }
        var configuration = try RedisConfiguration(url: server.url)
        configuration.commandTimeout = .milliseconds(200)
        let pool = RedisConnectionPool(
            configuration: configuration, eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        let breaker = CircuitBreaker(configuration: .init(coolDown: .milliseconds(300)))
        let cache = RedisResultCache(pool: pool, breaker: breaker, namespace: "slow:")
        defer { Task { await cache.shutdown() } }
        // Stored before Redis stops, awaited rather than assumed: the first lookup and store
        // open the connection and create the generation counters, and on a loaded machine one of
        // those replies can overrun the 200 ms timeout. That is a miss whose result is not stored
        // (as designed), and then no lookup below could ever hit.
        let stored = await RedisTestServer.eventually(timeout: .seconds(10), every: .milliseconds(50)) {
            _ = try? await cache.cached(.layout(rack: 1)) { 1 }
            return await cache.lookup(.layout(rack: 1), as: Int.self).value == 1
        }
        let setup = await cache.statistics()
        try #require(stored, "the value was never stored: \(setup)")
        #expect(breaker.mode == .closed)

        // Redis stops answering (its process stopped with SIGSTOP, by PID; connections stay
        // open) until the test continues it: a pause that ended by itself (CLIENT PAUSE) could
        // end before the lookups below on a loaded machine.
        let redis = try #require(server.process)
        redis.signal(SIGSTOP)
        defer { redis.signal(SIGCONT) }

        #expect(await cache.lookup(.layout(rack: 1), as: Int.self).value == nil)
        #expect(breaker.mode == .open)

        // Open: lookups skip Redis instead of each waiting for a timeout.
        let before = await cache.statistics().bypassed
        for _ in 0..<100 {
            #expect(await cache.lookup(.layout(rack: 1), as: Int.self).value == nil)
        }
        #expect(await cache.statistics().bypassed - before >= 90)  // a few may be half-open probes

        // Once Redis answers again, it closes by itself.
        redis.signal(SIGCONT)
        let closed = await RedisTestServer.eventually(timeout: .seconds(10), every: .milliseconds(50)) {
            _ = await cache.lookup(.layout(rack: 1), as: Int.self)
            return breaker.mode == .closed
        }
        #expect(closed)
        // And hits again. Eventually, not at once: on a loaded machine one lookup can still
        // overrun the 200 ms command timeout while the pool reconnects (a miss, as designed).
        let hits = await RedisTestServer.eventually(timeout: .seconds(10), every: .milliseconds(50)) {
            await cache.lookup(.layout(rack: 1), as: Int.self).value == 1
        }
        let afterwards = await cache.statistics()
        #expect(hits, "no hit after Redis continued: \(afterwards)")
    }
}
