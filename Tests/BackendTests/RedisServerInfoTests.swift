import Backend
import Testing

@Suite("Redis INFO parsing")
struct RedisServerInfoTests {
    private let sample = """
        # Server\r
        redis_version:7.0.15\r
        redis_mode:standalone\r
        uptime_in_seconds:3725\r
        \r
        # Clients\r
        connected_clients:12\r
        \r
        # Memory\r
        used_memory:1071592\r
        used_memory_human:1.02M\r
        maxmemory:0\r
        \r
        # Replication\r
        role:master\r
        # Keyspace\r
        db0:keys=3,expires=1,avg_ttl=0\r

        """

    @Test func readsTheFieldsTheHealthEndpointShows() {
        let info = RedisServerInfo(parsing: sample)
        #expect(info.version == "7.0.15")
        #expect(info.uptimeSeconds == 3725)
        #expect(info.connectedClients == 12)
        #expect(info.usedMemoryBytes == 1_071_592)
        #expect(info.usedMemoryHuman == "1.02M")
        #expect(info.maxMemoryBytes == 0)
        #expect(info.role == "master")
    }

    @Test func keepsEveryFieldAndValuesWithColons() {
        let info = RedisServerInfo(parsing: sample)
        #expect(info.fields["redis_mode"] == "standalone")
        #expect(info.fields["db0"] == "keys=3,expires=1,avg_ttl=0")
        #expect(RedisServerInfo(parsing: "executable:/usr/bin/redis-server\nx:a:b\n").fields["x"] == "a:b")
    }

    @Test func skipsHeadersBlankAndMalformedLines() {
        let info = RedisServerInfo(parsing: "# Server\r\n\r\nnot a field\r\nconnected_clients:abc\r\n")
        #expect(info.fields == ["connected_clients": "abc"])
        #expect(info.connectedClients == nil)
        #expect(info.version == nil)
    }
}
