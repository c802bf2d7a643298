import Foundation

#if canImport(Glibc)
    import Glibc
#endif
import Synchronization
import Testing

@testable import Edge

/// Two edges on two loopback addresses (127.0.0.2 and 127.0.0.3, as two hosts), one upstream, a
/// client at twice a zone's rate alternating between them: a shared zone holds the client to the
/// bound of docs/SCALING.md, local zones let twice the limit through, and a Redis that dies
/// mid-run makes the zone local without failing a request, then shared again when it is back.
///
/// Needs Redis (`HOMERACK_TEST_REDIS_URL`, which `./scripts/test.sh` sets; the outage test also
/// starts a `redis-server` of its own on a free port). Skipped without it, failed under `CI`.
@Suite("Shared zone topology", .serialized, .enabled(if: TestRedis.required, "HOMERACK_TEST_REDIS_URL is not set: run ./scripts/test.sh"))
struct SharedZoneTopologyTests {
    static var redisURL: String? { TestRedis.url }

    /// The zone: 10 r/s, burst 5. The client sends 20 r/s for `duration`.
    static let rate = 10
    static let burst = 5
    static let syncInterval: Duration = .milliseconds(5)
    /// Also the longest a successful sync can take, which is what the bound counts as the round trip.
    static let timeout: Duration = .milliseconds(200)
    static let duration: Duration = .seconds(4)

    /// The bound over a window `window`: r·W + burst + 1 + 2 (N − 1) (burst + 1 + r·D), with
    /// D = S + R + 2ρ (R: how often idle clients are refreshed, at least S).
    static func bound(window: Duration, edges: Int = 2) -> Double {
        let refresh = max(syncInterval, SharedZoneSync.idleRefreshInterval)
        let lag = (syncInterval + refresh + timeout * 2).seconds
        return Double(rate) * window.seconds + Double(burst + 1)
            + 2 * Double(edges - 1) * (Double(burst + 1) + Double(rate) * lag)
    }

    /// The YAML of one edge listening on `host`, with zone `api` local or shared through `redis`.
    static func yaml(host: String, upstream: String, redis: String?, retry: String = "1s") -> EdgeYAML {
        let shared = redis.map {
            ", shared: {redis: \"\($0)\", sync_interval: \(syncInterval.components.attoseconds / 1_000_000_000_000_000)ms, timeout: 200ms, failures: 3, retry_interval: \(retry)}"
        } ?? ""
        var yaml = EdgeYAML.proxying(
            to: [EdgeYAML.server(upstream)],
            limits: "{connections_per_client: 4, zones: {api: {rate: \(rate)r/s, capacity: 1024\(shared)}}}")
        yaml.routes = ["{prefix: /, proxy: app, rate_limit: {zone: api, burst: \(burst), nodelay: true}}"]
        // The keep-alive wait is long: on a loaded machine a client thread may stall past the
        // harness's 1 s between two requests, and the edge would close the connection under it.
        yaml.timeouts = "{client_header: 10s, client_body: 10s, keepalive: 30s, send: 10s, shutdown_grace: 1s}"
        return yaml
    }

    /// Starts an edge whose public listener is on `host` (the admin listener stays on 127.0.0.1).
    static func startEdge(_ yaml: EdgeYAML, host: String) async throws -> EdgeUnderTest {
        let text = yaml.text.replacingOccurrences(of: "    address: 127.0.0.1:0\nadmin:", with: "    address: \(host):0\nadmin:")
        let config = try ConfigLoader.parse(yaml: text, source: "test.yaml", environment: [:])
        return try await EdgeTests.startEdge(config: config)
    }

    /// What the client saw: statuses by count, and anything that was not a 200 or a 429.
    struct Tally: Sendable {
        var admitted = 0
        var refused = 0
        var failures: [String] = []
        var admittedTimes: [Double] = []
        /// From the first request to the last answer.
        var elapsed: Duration = .zero
    }

    /// Sends `count` requests at `gap` apart (by the clock, not one after the other's answer),
    /// alternating between `targets` (host, port), each over a keep-alive connection.
    static func drive(_ targets: [(String, Int)], count: Int?, gap: Duration, until stop: StopFlag? = nil) throws -> Tally {
        var tally = Tally()
        var connections: [RawHTTPConnection?] = Array(repeating: nil, count: targets.count)
        let start = ContinuousClock.now
        var index = 0
        while count.map({ index < $0 }) ?? true, !(stop?.isSet ?? false) {
            let due = start + gap * index
            let wait = due - ContinuousClock.now
            if wait > .zero { Thread.sleep(forTimeInterval: wait.seconds) }
            let which = index % targets.count
            index += 1
            do {
                let connection = try connections[which] ?? RawHTTPConnection(port: targets[which].1, host: targets[which].0)
                connections[which] = connection
                let response = try connection.request("GET", "/echo", timeout: .seconds(5))
                stop?.countAnswer()
                switch response.status {
                case 200:
                    tally.admitted += 1
                    tally.admittedTimes.append((ContinuousClock.now - start).seconds)
                case 429: tally.refused += 1
                default: tally.failures.append("request \(index) to \(targets[which].0): status \(response.status)")
                }
                if response.header("connection")?.lowercased() == "close" { connections[which] = nil }
            } catch {
                connections[which]?.close()
                connections[which] = nil
                tally.failures.append("request \(index) to \(targets[which].0): \(error)")
            }
        }
        for connection in connections { connection?.close() }
        tally.elapsed = ContinuousClock.now - start
        return tally
    }

    func runTwoEdges(redis: String?) async throws -> Tally {
        try await withUpstreams(["app"]) { upstreams in
            let first = try await Self.startEdge(Self.yaml(host: "127.0.0.2", upstream: upstreams[0].address, redis: redis), host: "127.0.0.2")
            let second = try await Self.startEdge(Self.yaml(host: "127.0.0.3", upstream: upstreams[0].address, redis: redis), host: "127.0.0.3")
            let count = Int(Self.duration.seconds * Double(Self.rate * 2))
            let gap = Duration.nanoseconds(1_000_000_000 / Int64(Self.rate * 2))
            let targets = [("127.0.0.2", first.port), ("127.0.0.3", second.port)]
            let result: Result<Tally, any Error>
            do {
                result = .success(try await offThePool { try Self.drive(targets, count: count, gap: gap) })
            } catch {
                result = .failure(error)
            }
            await first.server.shutdown(grace: .seconds(1))
            await second.server.shutdown(grace: .seconds(1))
            return try result.get()
        }
    }

    @Test func sharedZoneHoldsTwoEdgesToTheBound() async throws {
        let redis = try #require(Self.redisURL, "HOMERACK_TEST_REDIS_URL is not set: run ./scripts/test.sh")
        let tally = try await runTwoEdges(redis: redis)
        #expect(tally.failures.isEmpty, "\(tally.failures.prefix(5))")
        // The run's window as measured (a loaded machine may stretch it past `duration`).
        let window = max(tally.elapsed, Self.duration)
        #expect(
            Double(tally.admitted) <= Self.bound(window: window),
            "admitted \(tally.admitted), refused \(tally.refused) in \(window); bound \(Self.bound(window: window))")
        // The zone still admits: at least half its rate. The upper bound is what this test is
        // for; a run beside the whole suite on two cores admitted 31 of 40, and a zone that
        // refused everything still fails here.
        #expect(tally.admitted >= Self.rate * Int(Self.duration.seconds) / 2, "the zone still admits: \(tally.admitted)")
    }

    @Test func localZonesOnTwoEdgesLetTwiceTheLimitThrough() async throws {
        let tally = try await runTwoEdges(redis: nil)
        #expect(tally.failures.isEmpty, "\(tally.failures.prefix(5))")
        // Each edge sees the client at exactly the zone's rate, so (almost) everything passes.
        let sent = Int(Self.duration.seconds * Double(Self.rate * 2))
        #expect(Double(tally.admitted) > Self.bound(window: Self.duration), "admitted \(tally.admitted) of \(sent)")
        #expect(tally.admitted >= sent * 9 / 10, "admitted \(tally.admitted) of \(sent)")
    }

    @Test func redisDyingMidRunFailsNoRequestAndTheZoneComesBackShared() async throws {
        // Redis goes down and comes back on this port: one no other test's socket can take meanwhile.
        let port = try portBelowEphemeralRange()
        var redis = try TestRedisServer.start(port: port)
        defer { redis.stop() }
        try await withUpstreams(["app"]) { upstreams in
            let url = "redis://127.0.0.1:\(port)"
            let first = try await Self.startEdge(
                Self.yaml(host: "127.0.0.2", upstream: upstreams[0].address, redis: url, retry: "200ms"), host: "127.0.0.2")
            let second = try await Self.startEdge(
                Self.yaml(host: "127.0.0.3", upstream: upstreams[0].address, redis: url, retry: "200ms"), host: "127.0.0.3")
            let edges = [first, second]
            let shared = "edge_rate_limit_zone_shared{zone=\"api\"}"
            let synced = "edge_rate_limit_sync_clients_total{zone=\"api\"}"
            let stop = StopFlag()
            let gap = Duration.nanoseconds(1_000_000_000 / Int64(Self.rate * 2))
            let targets = [("127.0.0.2", first.port), ("127.0.0.3", second.port)]
            let client = Task { try await offThePool { try Self.drive(targets, count: nil, gap: gap, until: stop) } }
            do {
                for edge in edges {
                    try await eventually("both edges to sync with Redis", timeout: .seconds(10)) {
                        let metrics = try edge.metrics()
                        return metricValue(metrics, shared) == 1 && (metricValue(metrics, synced) ?? 0) > 0
                    }
                }
                redis.stop()
                for edge in edges {
                    try await eventually("the zone to fall back to local limits", timeout: .seconds(10)) {
                        metricValue(try edge.metrics(), shared) == 0
                    }
                }
                // Requests go on while the zone is local: none may fail.
                let answeredAtFallback = stop.answered
                try await eventually("20 requests answered while local", timeout: .seconds(10)) {
                    stop.answered >= answeredAtFallback + 20
                }
                let failuresDuringOutage = try edges.map { metricValue(try $0.metrics(), "edge_rate_limit_sync_failures_total{zone=\"api\"}") ?? 0 }
                #expect(failuresDuringOutage.allSatisfy { $0 >= 3 })
                redis = try TestRedisServer.start(port: port)
                for edge in edges {
                    try await eventually("the zone to be shared again", timeout: .seconds(10)) {
                        metricValue(try edge.metrics(), shared) == 1
                    }
                }
                let answeredAtReturn = stop.answered
                try await eventually("20 requests answered after Redis returned", timeout: .seconds(10)) {
                    stop.answered >= answeredAtReturn + 20
                }
            } catch {
                stop.set()
                _ = try? await client.value
                await first.server.shutdown(grace: .seconds(1))
                await second.server.shutdown(grace: .seconds(1))
                throw error
            }
            stop.set()
            let tally = try await client.value
            await first.server.shutdown(grace: .seconds(1))
            await second.server.shutdown(grace: .seconds(1))
            #expect(tally.failures.isEmpty, "requests failed: \(tally.failures.prefix(5))")
            #expect(tally.admitted > 0 && tally.refused > 0, "admitted \(tally.admitted), refused \(tally.refused)")
        }
    }
}

/// The Redis `scripts/test.sh` starts: outside CI a test that needs it is skipped when
/// `HOMERACK_TEST_REDIS_URL` is not set; with `CI` set it runs and fails, so a broken CI setup
/// cannot pass by skipping (as the backend's `RedisTestServer`).
enum TestRedis {
    static let environment = ProcessInfo.processInfo.environment
    static var url: String? { environment["HOMERACK_TEST_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 } }
    static var required: Bool { url != nil || !(environment["CI"] ?? "").isEmpty }
}

/// What a test task tells a running client (stop) and learns from it (requests answered so far).
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    private let answeredCount = Atomic<Int>(0)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
    func countAnswer() { answeredCount.add(1, ordering: .relaxed) }
    var answered: Int { answeredCount.load(ordering: .relaxed) }
}

/// A `redis-server` of a test's own on a loopback port, without persistence, stopped by its PID.
///
/// Spawned with `posix_spawn` and a cleared signal mask: a child inherits its parent's, and the
/// test runner's threads block SIGTERM, which would leave the server deaf to its stop.
struct TestRedisServer {
    let pid: pid_t
    let port: Int

    /// Starts it and waits (up to 10 s) until it answers PING.
    static func start(port: Int) throws -> TestRedisServer {
        let arguments = [
            "/usr/bin/redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--logfile", "/dev/null",
        ]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], nil, &attributes, &argv, environ)
        guard result == 0 else { throw TestFailure("posix_spawn of redis-server failed: \(result)") }
        let server = TestRedisServer(pid: pid, port: port)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if server.answersPing() { return server }
            Thread.sleep(forTimeInterval: 0.02)
        }
        server.stop()
        throw TestFailure("redis-server on port \(port) did not answer PING within 10 s")
    }

    func answersPing() -> Bool {
        guard let connection = try? RawHTTPConnection(port: port) else { return false }
        defer { connection.close() }
        guard (try? connection.send("PING\r\n")) != nil else { return false }
        return (try? connection.readLine(timeout: .seconds(1))) == "+PONG"
    }

    /// Stops it: SIGTERM to its PID, up to 5 s to exit, then SIGKILL. Does nothing the second time.
    func stop() {
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == 0, kill(pid, SIGTERM) == 0 else { return }
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { return }
            Thread.sleep(forTimeInterval: 0.01)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
