import Limits
import Testing

@testable import Edge

/// `shared:` of a rate zone: defaults, the Redis URL, and what the operator is told to fix.
extension ConfigLoaderTests {
    @Test func sharedZoneTakesItsDefaults() throws {
        let config = try parse(
            Self.listener + """
                limits:
                  zones:
                    api: {rate: 10r/s, shared: {redis: "redis://10.0.0.5"}}
                """)
        let shared = try #require(config.limits.zones["api"]?.shared)
        #expect(shared.redis == RedisAddress(host: "10.0.0.5", port: 6379))
        #expect(shared.mode == .batched)
        #expect(shared.syncInterval == .milliseconds(10))
        #expect(shared.timeout == .milliseconds(100))
        #expect(shared.failures == 3)
        #expect(shared.retryInterval == .seconds(1))
    }

    @Test func sharedZoneReadsEveryKeyAndACredentialedURL() throws {
        let config = try parse(
            Self.listener + """
                limits:
                  zones:
                    api:
                      rate: 10r/s
                      shared:
                        redis: "redis://edge:${REDIS_PASSWORD}@[2001:db8::5]:6380/2"
                        mode: batched
                        sync_interval: 5ms
                        timeout: 50ms
                        failures: 5
                        retry_interval: 250ms
                """, environment: ["REDIS_PASSWORD": "s3cret"])
        let shared = try #require(config.limits.zones["api"]?.shared)
        #expect(shared.redis == RedisAddress(host: "2001:db8::5", port: 6380, user: "edge", password: "s3cret", database: 2))
        #expect(shared.redis.description == "redis://edge:***@[2001:db8::5]:6380/2", "the password never reaches a log")
        #expect(shared.syncInterval == .milliseconds(5))
        #expect(shared.timeout == .milliseconds(50))
        #expect(shared.failures == 5)
        #expect(shared.retryInterval == .milliseconds(250))
    }

    @Test func strictModeIsAcceptedWithItsTimeout() throws {
        let config = try parse(
            Self.listener + """
                limits:
                  zones:
                    api: {rate: 10r/s, shared: {redis: "redis://10.0.0.5", mode: strict, timeout: 20ms}}
                """)
        let shared = try #require(config.limits.zones["api"]?.shared)
        #expect(shared.mode == .strict)
        #expect(shared.timeout == .milliseconds(20))
    }

    @Test func sharedZoneProblemsSayWhatToWrite() {
        let found = problems(
            Self.listener + """
                limits:
                  zones:
                    a: {rate: 10r/s, shared: {}}
                    b: {rate: 10r/s, shared: {redis: "http://10.0.0.5"}}
                    c: {rate: 10r/s, shared: {redis: "redis://10.0.0.5", mode: strikt}}
                    d: {rate: 10r/s, shared: {redis: "redis://10.0.0.5:99999", sync_interval: 20s}}
                    e: {rate: 10r/s, shared: {redis: "rediss://10.0.0.5", sync_intervall: 5ms}}
                """)
        expectProblem(found, at: "limits.zones.a.shared.redis", line: 4, "is required", "redis://127.0.0.1:6379")
        expectProblem(found, at: "limits.zones.b.shared.redis", line: 5, "not a Redis URL", "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]")
        expectProblem(found, at: "limits.zones.c.shared.mode", line: 6, "unknown value 'strikt'", "did you mean 'strict'?")
        expectProblem(found, at: "limits.zones.d.shared.redis", line: 7, "not a port (1-65535)")
        expectProblem(found, at: "limits.zones.d.shared.sync_interval", line: 7, "1ms to 10s")
        expectProblem(found, at: "limits.zones.e.shared.redis", line: 8, "TLS", "not supported")
        expectProblem(found, at: "limits.zones.e.shared.sync_intervall", line: 8, "did you mean 'sync_interval'?")
    }
}

/// Reloads keep a shared zone's clients the way they keep a local zone's.
@Suite struct SharedZoneReloadTests {
    @Test func changedSyncSettingsKeepTheZoneAndTurningSharingOffMakesANewOne() throws {
        let registry = ZoneRegistry(hashSeed: 1, shardCount: 1)
        var limits = LimitsConfig()
        limits.zones["api"] = ZoneConfig(rate: .perSecond(10), capacity: 100, shared: SharedZoneConfig(redis: RedisAddress(host: "127.0.0.1")))
        let first = try #require(try registry.update(limits)["api"])
        #expect(first.isShared)

        limits.zones["api"]?.shared?.syncInterval = .milliseconds(50)
        limits.zones["api"]?.shared?.redis = RedisAddress(host: "10.0.0.5")
        let second = try #require(try registry.update(limits)["api"])
        #expect(second === first, "new sync settings keep the clients' state")
        #expect(registry.current["api"]?.config.shared?.syncInterval == .milliseconds(50))

        limits.zones["api"]?.shared = nil
        let third = try #require(try registry.update(limits)["api"])
        #expect(third !== second && !third.isShared)

        var strict = SharedZoneConfig(redis: RedisAddress(host: "127.0.0.1"))
        strict.mode = .strict
        limits.zones["api"]?.shared = strict
        let fourth = try #require(try registry.update(limits)["api"])
        #expect(fourth !== third && fourth.isStrict && !fourth.isShared, "strict mode is a zone of its own kind")
        limits.zones["api"]?.shared?.timeout = .milliseconds(20)
        #expect(try registry.update(limits)["api"] === fourth, "a strict zone's new timeout keeps its state")
    }
}
