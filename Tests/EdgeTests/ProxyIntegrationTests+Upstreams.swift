import Testing

@testable import Edge

/// Choosing among upstream servers: balancing, failover past dead servers, retries (only when
/// safe), and the 502 when nothing answers.
extension ProxyIntegrationTests {
    static func upstreamNames(_ edge: EdgeUnderTest, requests: Int, path: String = "/echo") throws -> [String] {
        let connection = try edge.connect()
        defer { connection.close() }
        return try (0..<requests).map { _ in
            let response = try connection.request("GET", path)
            guard response.status == 200, let name = response.header("X-Upstream") else {
                throw TestFailure("expected a 200 from an upstream, got \(response.status)")
            }
            return name
        }
    }

    // MARK: Balancing

    @Test func roundRobinAlternatesBetweenTwoUpstreams() async throws {
        try await withUpstreams(["a", "b"]) { upstreams in
            try await withEdge(yaml: .proxying(to: upstreams.map { EdgeYAML.server($0.address) })) { edge in
                let names = try Self.upstreamNames(edge, requests: 10)
                #expect(names == ["a", "b", "a", "b", "a", "b", "a", "b", "a", "b"])
                #expect(upstreams[0].requestCount == 5 && upstreams[1].requestCount == 5)
            }
        }
    }

    @Test func weightedRoundRobinFollowsWeights() async throws {
        try await withUpstreams(["a", "b"]) { upstreams in
            let servers = [EdgeYAML.server(upstreams[0].address, "weight: 3"), EdgeYAML.server(upstreams[1].address)]
            try await withEdge(yaml: .proxying(to: servers)) { edge in
                let names = try Self.upstreamNames(edge, requests: 8)
                #expect(names.filter { $0 == "a" }.count == 6)
                #expect(names.filter { $0 == "b" }.count == 2)
            }
        }
    }

    @Test func leastConnectionsSendsNewRequestsAwayFromABusyServer() async throws {
        try await withUpstreams(["a", "b"]) { upstreams in
            let yaml = EdgeYAML.proxying(to: upstreams.map { EdgeYAML.server($0.address) }, options: ["balance: least_connections"])
            try await withEdge(yaml: yaml) { edge in
                let slow = try edge.connect()
                defer { slow.close() }
                try slow.sendRequest("GET", "/slow?ms=1500")
                try await eventually("the slow request to reach an upstream") {
                    upstreams.contains { $0.requestCount(path: "/slow") == 1 }
                }
                let busy = upstreams[0].requestCount(path: "/slow") == 1 ? "a" : "b"
                let names = try Self.upstreamNames(edge, requests: 4)
                #expect(!names.contains(busy), "\(names) while \(busy) was busy")
                #expect(try slow.readResponse().status == 200)
            }
        }
    }

    // MARK: Failover and retries

    @Test
    func deadUpstreamIsSkippedAndEveryGetSucceeds() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let dead = try deadPort()
            let servers = [EdgeYAML.server("127.0.0.1:\(dead)"), EdgeYAML.server(upstreams[0].address)]
            let yaml = EdgeYAML.proxying(to: servers, options: ["connect_timeout: 1s"])
            try await withEdge(yaml: yaml) { edge in
                let names = try Self.upstreamNames(edge, requests: 10)
                #expect(names == Array(repeating: "a", count: 10))
                let metrics = try edge.metrics()
                #expect(metricValue(metrics, "edge_upstream_up{upstream=\"app\",server=\"127.0.0.1:\(dead)\"}") == 0)
                #expect(metricValue(metrics, "edge_upstream_up{upstream=\"app\",server=\"\(upstreams[0].address)\"}") == 1)
            }
        }
    }

    /// `/close` on A drops the connection without an answer. A GET can be replayed on B; a POST
    /// cannot (the upstream may have acted on it), so it gets 502.
    @Test
    func getIsRetriedOnAnotherServerButPostIsNot() async throws {
        let a = try await TestUpstream.start(name: "a", dropsOnClose: true)
        let b = try await TestUpstream.start(name: "b", dropsOnClose: false)
        // A first by weight, and never marked down, so each request tries A first.
        let servers = [EdgeYAML.server(a.address, "weight: 1000, max_fails: 0"), EdgeYAML.server(b.address)]
        let yaml = EdgeYAML.proxying(to: servers)
        do {
            try await withEdge(yaml: yaml) { edge in
                let get = try edge.request("GET", "/close")
                #expect(get.status == 200)
                #expect(get.header("X-Upstream") == "b")
                #expect(a.requestCount(path: "/close") == 1, "A was tried first")

                let post = try edge.request("POST", "/close", body: Array("data".utf8))
                #expect(post.status == 502)
                Self.expectDecorated(post)
                #expect(a.requestCount(path: "/close") == 2)
                #expect(!b.requests.contains { $0.method == "POST" }, "the POST was replayed on B")
                try await eventually("the in-flight gauges to drop") {
                    let metrics = try edge.metrics()
                    return [a, b].allSatisfy {
                        metricValue(metrics, "edge_upstream_in_flight{upstream=\"app\",server=\"\($0.address)\"}") == 0
                    }
                }
            }
        } catch {
            await a.stop()
            await b.stop()
            throw error
        }
        await a.stop()
        await b.stop()
    }

    @Test func upstreamErrorStatusIsPassedOnAndNotCountedAsAFailure() async throws {
        try await withUpstreams(["a", "b"]) { upstreams in
            try await withEdge(yaml: .proxying(to: upstreams.map { EdgeYAML.server($0.address) })) { edge in
                let response = try edge.request("GET", "/status/503")
                #expect(response.status == 503)
                #expect(response.text == "status 503 from a\n", "the upstream's own answer, not the edge's")
                Self.expectDecorated(response)
                #expect(upstreams[1].requestCount == 0, "an answer is not retried, whatever its status")
                let metrics = try edge.metrics()
                #expect(metricValue(metrics, "edge_upstream_up{upstream=\"app\",server=\"\(upstreams[0].address)\"}") == 1)
            }
        }
    }

    @Test func allUpstreamsDeadGives502() async throws {
        let servers = [EdgeYAML.server("127.0.0.1:\(try deadPort())"), EdgeYAML.server("127.0.0.1:\(try deadPort())")]
        try await withEdge(yaml: .proxying(to: servers, options: ["connect_timeout: 1s"])) { edge in
            let response = try edge.request("GET", "/echo")
            #expect(response.status == 502)
            Self.expectDecorated(response)
            let again = try edge.request("GET", "/echo")
            #expect(again.status == 502, "servers marked down are still tried rather than refusing outright")
        }
    }

    @Test(arguments: [(0, 1), (1, 2), (2, 3)])
    func maxRetriesBoundsTheAttempts(maxRetries: Int, attempts: Int) async throws {
        let servers = try (0..<4).map { _ in EdgeYAML.server("127.0.0.1:\(try deadPort())") }
        let yaml = EdgeYAML.proxying(to: servers, options: ["connect_timeout: 1s", "max_retries: \(maxRetries)"])
        try await withEdge(yaml: yaml) { edge in
            let response = try edge.request("GET", "/echo")
            #expect(response.status == 502)
            try await eventually("the failures to be counted") {
                metricValue(try edge.metrics(), "edge_upstream_failures_total{upstream=\"app\"}") == Double(attempts)
            }
        }
    }

    @Test func upstreamConnectionIsReusedAcrossRequests() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                for _ in 0..<5 {
                    let response = try connection.request("GET", "/echo")
                    #expect(response.status == 200)
                }
                #expect(upstreams[0].requestCount == 5)
                #expect(upstreams[0].connectionsAccepted == 1, "each request opened its own upstream connection")
            }
        }
    }
}
