import Foundation

#if canImport(Glibc)
    import Glibc
#endif
import Testing

@testable import Edge

/// Strict shared zones across two edges (127.0.0.2 and 127.0.0.3) and one Redis: Redis decides
/// each request, so the two edges together admit exactly what one edge alone would; and a Redis
/// that stops answering costs each request at most the zone's `timeout`, fails none, and the
/// zone is shared again once Redis is back.
@Suite(
    "Shared zone strict mode across edges", .serialized,
    .enabled(if: TestRedis.required, "HOMERACK_TEST_REDIS_URL is not set: run ./scripts/test.sh"))
struct SharedZoneStrictTests {
    /// The YAML of one edge on `host` whose zone `zone` is strict through `redis`. The rate is
    /// one request a minute, so nothing drains during a test: admissions are the burst + 1.
    static func yaml(host: String, upstream: String, redis: String, zone: String, burst: Int, timeout: String = "200ms")
        -> EdgeYAML
    {
        var yaml = EdgeYAML.proxying(
            to: [EdgeYAML.server(upstream)],
            limits: """
                {zones: {\(zone): {rate: 1r/m, capacity: 1024, shared: {redis: "\(redis)", mode: strict, timeout: \(timeout), \
                failures: 2, retry_interval: 200ms}}}}
                """)
        yaml.routes = ["{prefix: /, proxy: app, rate_limit: {zone: \(zone), burst: \(burst), nodelay: true}}"]
        return yaml
    }

    /// A zone name no earlier run has keys under in the suite's Redis.
    static func freshZone() -> String { "strict\(UInt32.random(in: 0...UInt32.max))" }

    struct Outcome: Sendable {
        var statuses: [Int] = []
        var retryAfter: [String] = []
        var failures: [String] = []
        var slowest: Duration = .zero
    }

    /// `count` requests, one after the other's answer, alternating between `targets`.
    static func send(_ count: Int, to targets: [(String, Int)]) throws -> Outcome {
        var outcome = Outcome()
        var connections: [RawHTTPConnection?] = Array(repeating: nil, count: targets.count)
        for index in 0..<count {
            let which = index % targets.count
            let started = ContinuousClock.now
            do {
                let connection = try connections[which] ?? RawHTTPConnection(port: targets[which].1, host: targets[which].0)
                connections[which] = connection
                let response = try connection.request("GET", "/echo", timeout: .seconds(5))
                outcome.statuses.append(response.status)
                if let value = response.header("retry-after") { outcome.retryAfter.append(value) }
                if response.header("connection")?.lowercased() == "close" { connections[which] = nil }
            } catch {
                connections[which]?.close()
                connections[which] = nil
                outcome.failures.append("request \(index) to \(targets[which].0): \(error)")
            }
            outcome.slowest = max(outcome.slowest, ContinuousClock.now - started)
        }
        for connection in connections { connection?.close() }
        return outcome
    }

    @Test func twoStrictEdgesAdmitExactlyWhatOneEdgeAdmits() async throws {
        let redis = try #require(TestRedis.url, "HOMERACK_TEST_REDIS_URL is not set: run ./scripts/test.sh")
        let burst = 5
        try await withUpstreams(["app"]) { upstreams in
            let zone = Self.freshZone()
            let first = try await SharedZoneTopologyTests.startEdge(
                Self.yaml(host: "127.0.0.2", upstream: upstreams[0].address, redis: redis, zone: zone, burst: burst), host: "127.0.0.2")
            let second = try await SharedZoneTopologyTests.startEdge(
                Self.yaml(host: "127.0.0.3", upstream: upstreams[0].address, redis: redis, zone: zone, burst: burst), host: "127.0.0.3")
            let targets = [("127.0.0.2", first.port), ("127.0.0.3", second.port)]
            let result = Result { try Self.send(4 * (burst + 1), to: targets) }
            await first.server.shutdown(grace: .seconds(1))
            await second.server.shutdown(grace: .seconds(1))
            let outcome = try result.get()
            #expect(outcome.failures.isEmpty, "\(outcome.failures.prefix(5))")
            // One edge alone admits burst + 1 at 1r/m; the two together, exactly as many.
            #expect(outcome.statuses.filter { $0 == 200 }.count == burst + 1, "\(outcome.statuses)")
            #expect(Array(outcome.statuses.prefix(burst + 1)) == Array(repeating: 200, count: burst + 1))
            #expect(outcome.statuses.dropFirst(burst + 1).allSatisfy { $0 == 429 }, "\(outcome.statuses)")
            // Refused about a minute (one interval at 1r/m) before the next request would pass.
            #expect(outcome.retryAfter.allSatisfy { (Int($0) ?? 0) >= 55 && (Int($0) ?? 0) <= 60 }, "\(outcome.retryAfter)")
        }
    }

    /// An HTTPS edge offering HTTP/2 whose `/limited/` route's zone (1 r/m, no burst) is strict
    /// through `redis`, under the name `zone`.
    static func http2Config(
        directory: TLSTestDirectory, upstream: TLSTestUpstream, redis: String, zone: String,
        timeout: Duration = .milliseconds(100)
    ) throws -> EdgeConfig {
        let a = try directory.makeCertificate("a.test")
        var config = try TLSTestConfig.make(
            upstream: upstream, listeners: [TLSTestConfig.https("h2", certificates: [a.config(serverNames: ["a.test"])])])
        var shared = SharedZoneConfig(redis: try RedisAddress(parsing: redis))
        shared.mode = .strict
        shared.timeout = timeout
        let removed = config.limits.zones.removeValue(forKey: "tight")
        var tight = try #require(removed)
        tight.shared = shared
        config.limits.zones[zone] = tight
        for index in config.routes.indices {
            for rule in config.routes[index].rateLimits.indices where config.routes[index].rateLimits[rule].zone == "tight" {
                config.routes[index].rateLimits[rule].zone = zone
            }
        }
        return config
    }

    @Test func http2StreamsWaitForTheStoreToo() async throws {
        let redis = try #require(TestRedis.url, "HOMERACK_TEST_REDIS_URL is not set: run ./scripts/test.sh")
        let zone = Self.freshZone()
        try await withTLSEdge({ directory, upstream in
            try Self.http2Config(directory: directory, upstream: upstream, redis: redis, zone: zone)
        }) { edge, _, _ in
            var h2 = TLSClientOptions()
            h2.alpn = ["h2"]
            try await withTLSConnection(port: try edge.port(0), h2) { connection in
                #expect(connection.negotiatedProtocol == "h2")
                let first = try await connection.request(.GET, "/limited/one")
                #expect(first.status == 200)
                let second = try await connection.request(.GET, "/limited/two")
                #expect(second.status == 429)
                #expect(Int(second.header("retry-after") ?? "") ?? 0 >= 55, "about a minute at 1r/m")
                let other = try await connection.request(.GET, "/app/after")
                #expect(other.status == 200, "the connection's other streams go on")
            }
            // Both limited requests were Redis's to decide (one edge's table would say the same).
            let decided = metricValue(try await edge.metrics(), "edge_rate_limit_sync_clients_total{zone=\"\(zone)\"}")
            #expect(decided == 2, "requests sent to Redis: \(String(describing: decided))")
        }
    }

    /// An HTTP/2 stream reset while it waits for a store that does not answer: logged as the
    /// client's abandonment (499), never forwarded; the connection's other streams go on. On
    /// the core only (the SwiftNIO listener drops such a stream without a log line).
    @Test func anHTTP2StreamResetWhileItWaitsForTheStoreIsForgotten() async throws {
        let port = try portBelowEphemeralRange()
        let redis = try TestRedisServer.start(port: port)
        defer {
            kill(redis.pid, SIGCONT)
            redis.stop()
        }
        let zone = Self.freshZone()
        try await withTLSEdge({ directory, upstream in
            // The reset comes well before the zone's timeout.
            try Self.http2Config(
                directory: directory, upstream: upstream, redis: "redis://127.0.0.1:\(port)", zone: zone, timeout: .seconds(3))
        }) { edge, _, upstream in
            let sharedSeries = "edge_rate_limit_zone_shared{zone=\"\(zone)\"}"
            try await eventually("the zone to use Redis", timeout: .seconds(10)) { metricValue(try await edge.metrics(), sharedSeries) == 1 }
            kill(redis.pid, SIGSTOP)
            var h2 = TLSClientOptions()
            h2.alpn = ["h2"]
            try await withTLSConnection(port: try edge.port(0), h2) { connection in
                try await connection.openAndResetStream("/limited/reset")
                let abandoned = "http_requests_total{route=\"/limited/\",method=\"GET\",status=\"499\"}"
                try await eventually("the reset stream's 499", timeout: .seconds(10)) { metricValue(try await edge.metrics(), abandoned) == 1 }
                let other = try await connection.request(.GET, "/app/after")
                #expect(other.status == 200)
            }
            #expect(upstream.requestsReceived == 1, "the reset stream went upstream")
        }
    }

    @Test func aRedisThatStopsAnsweringCostsEachRequestAtMostTheTimeoutAndFailsNone() async throws {
        let port = try portBelowEphemeralRange()
        var redis = try TestRedisServer.start(port: port)
        defer {
            kill(redis.pid, SIGCONT)
            redis.stop()
        }
        try await withUpstreams(["app"]) { upstreams in
            let url = "redis://127.0.0.1:\(port)"
            let zone = Self.freshZone()
            // A burst the test never exhausts: every request passes, wherever it is decided.
            let first = try await SharedZoneTopologyTests.startEdge(
                Self.yaml(host: "127.0.0.2", upstream: upstreams[0].address, redis: url, zone: zone, burst: 1000, timeout: "100ms"),
                host: "127.0.0.2")
            let second = try await SharedZoneTopologyTests.startEdge(
                Self.yaml(host: "127.0.0.3", upstream: upstreams[0].address, redis: url, zone: zone, burst: 1000, timeout: "100ms"),
                host: "127.0.0.3")
            let edges = [first, second]
            let targets = [("127.0.0.2", first.port), ("127.0.0.3", second.port)]
            let shared = "edge_rate_limit_zone_shared{zone=\"\(zone)\"}"
            do {
                for edge in edges {
                    try await eventually("both edges to use Redis", timeout: .seconds(10)) { metricValue(try edge.metrics(), shared) == 1 }
                }
                let before = try await offThePool { try Self.send(10, to: targets) }
                #expect(before.failures.isEmpty && before.statuses.allSatisfy { $0 == 200 }, "\(before)")

                // Redis hangs (stopped, its sockets open): each request waits at most the timeout.
                kill(redis.pid, SIGSTOP)
                // A client that leaves while its request waits: the answer (the timeout's) is dropped.
                let leaving = try RawHTTPConnection(port: first.port, host: "127.0.0.2")
                try leaving.send("GET /echo HTTP/1.1\r\nHost: edge.test\r\n\r\n")
                leaving.close()
                let during = try await offThePool { try Self.send(20, to: targets) }
                #expect(during.failures.isEmpty, "\(during.failures.prefix(5))")
                #expect(during.statuses.allSatisfy { $0 == 200 }, "\(during.statuses)")
                // 100 ms of timeout plus the rest of a request on a loaded machine; a request that
                // waited for Redis itself would take the client's 5 s and fail.
                #expect(during.slowest < .seconds(1), "slowest request: \(during.slowest)")
                for edge in edges {
                    try await eventually("the zone to fall back to local decisions", timeout: .seconds(10)) {
                        metricValue(try edge.metrics(), shared) == 0
                    }
                }
                // While local, requests are decided at once.
                let local = try await offThePool { try Self.send(10, to: targets) }
                #expect(local.failures.isEmpty && local.statuses.allSatisfy { $0 == 200 }, "\(local)")

                // Killed outright, then back on the same port: shared again by itself.
                kill(redis.pid, SIGCONT)
                redis.stop()
                redis = try TestRedisServer.start(port: port)
                for edge in edges {
                    try await eventually("the zone to be shared again", timeout: .seconds(10)) { metricValue(try edge.metrics(), shared) == 1 }
                }
                let after = try await offThePool { try Self.send(10, to: targets) }
                #expect(after.failures.isEmpty && after.statuses.allSatisfy { $0 == 200 }, "\(after)")
            } catch {
                await first.server.shutdown(grace: .seconds(1))
                await second.server.shutdown(grace: .seconds(1))
                throw error
            }
            await first.server.shutdown(grace: .seconds(1))
            await second.server.shutdown(grace: .seconds(1))
        }
    }
}
