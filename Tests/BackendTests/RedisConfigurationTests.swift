import Backend
import Testing

@Suite("Redis configuration")
struct RedisConfigurationTests {
    @Test func parsesHostAndPortWithDefaults() throws {
        let configuration = try RedisConfiguration(url: "redis://cache.internal")
        #expect(configuration.host == "cache.internal")
        #expect(configuration.port == 6379)
        #expect(configuration.password == nil)
        #expect(configuration.database == 0)
        #expect(configuration.poolSize == 4)
    }

    @Test func parsesPasswordAndDatabase() throws {
        let configuration = try RedisConfiguration(url: "redis://:s3cr%40t@10.0.0.5:6380/3")
        #expect(configuration.host == "10.0.0.5")
        #expect(configuration.port == 6380)
        #expect(configuration.username == nil)
        #expect(configuration.password == "s3cr@t")
        #expect(configuration.database == 3)
    }

    @Test func parsesAnACLUser() throws {
        let configuration = try RedisConfiguration(url: "redis://app:pw@localhost:6379/0")
        #expect(configuration.username == "app")
        #expect(configuration.password == "pw")
    }

    @Test func parsesAnIPv6Host() throws {
        let configuration = try RedisConfiguration(url: "redis://[::1]:6390")
        #expect(configuration.host == "::1")
        #expect(configuration.port == 6390)
        #expect(configuration.description == "redis://[::1]:6390/0")
    }

    @Test func redactsThePasswordInItsDescription() throws {
        let configuration = try RedisConfiguration(url: "redis://:hunter2@localhost:6379/1")
        #expect(configuration.description == "redis://:***@localhost:6379/1")
        #expect(!"\(configuration)".contains("hunter2"))
    }

    @Test(arguments: [
        "http://localhost", "rediss://localhost", "redis://", "redis://host/abc", "redis://host/1/2", "redis://host:0",
    ])
    func rejectsURLsItCannotServe(url: String) {
        let error = #expect(throws: RedisError.self) { try RedisConfiguration(url: url) }
        #expect(error?.isInvalidURL == true)
    }
}
