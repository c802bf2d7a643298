import Foundation
import Testing

@testable import Edge

/// Reload, metrics, the access log and graceful shutdown.
extension ProxyIntegrationTests {
    // MARK: Reload

    @Test func reloadSwitchesARouteForNewRequestsWhileARequestInFlightFinishes() async throws {
        try await withUpstreams(["a", "b"]) { upstreams in
            let before = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)])
            try await withEdge(yaml: before) { edge in
                let inFlight = try edge.connect()
                defer { inFlight.close() }
                try inFlight.sendRequest("GET", "/slow?ms=800")
                try await eventually("the slow request to reach a") { upstreams[0].requestCount(path: "/slow") == 1 }

                let after = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[1].address)])
                try edge.server.reload(try after.config())

                let fresh = try edge.request("GET", "/echo")
                #expect(fresh.header("X-Upstream") == "b", "a new request uses the new route")
                let finished = try inFlight.readResponse(timeout: .seconds(5))
                #expect(finished.status == 200)
                #expect(finished.header("X-Upstream") == "a", "the running request finished where it started")
                let next = try inFlight.request("GET", "/echo")
                #expect(next.header("X-Upstream") == "b", "the old connection's next request uses the new configuration")
                let metrics = try edge.metrics()
                #expect(metricValue(metrics, "edge_config_reloads_total{result=\"success\"}") == 1)
            }
        }
    }

    @Test func reloadChangingTheListenerIsRefusedAndTheOldConfigKeepsServing() async throws {
        try await withUpstreams(["a", "b"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                var changed = try EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[1].address)]).config()
                changed.listeners = [ListenerConfig(name: "public", address: .tcp(host: "127.0.0.1", port: edge.port + 1))]
                #expect(throws: EdgeError.self) { try edge.server.reload(changed) }
                let response = try edge.request("GET", "/echo")
                #expect(response.header("X-Upstream") == "a")
                #expect(metricValue(try edge.metrics(), "edge_config_reloads_total{result=\"failure\"}") == 1)
            }
        }
    }

    @Test func reloadKeepsRateLimitStateForAnUnchangedZone() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let yaml = Self.rateLimited(upstreams[0], burst: 0)
            try await withEdge(yaml: yaml) { edge in
                let first = try edge.request("GET", "/echo")
                #expect(first.status == 200)
                try edge.server.reload(try yaml.config())
                let afterReload = try edge.request("GET", "/echo")
                #expect(afterReload.status == 429, "a reload is no way to reset a client's bucket")
            }
        }
    }

    // MARK: Metrics

    @Test func metricsCountRequestsByRouteTemplateAndRateLimitRejections() async throws {
        try await withUpstreams(["a"]) { upstreams in
            var yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)])
            yaml.routes = ["{prefix: /, proxy: app}", "{prefix: /api/, proxy: app, rate_limit: {zone: api, burst: 0, nodelay: true}}"]
            yaml.limits = "{zones: {api: {rate: 1r/m, capacity: 100}}}"
            try await withEdge(yaml: yaml) { edge in
                let statuses = try ["/api/items/1", "/api/items/2", "/home", "/status/404"].map { try edge.request("GET", $0).status }
                #expect(statuses == [200, 429, 200, 404])
                let expected = [
                    "http_requests_total{route=\"/api/\",method=\"GET\",status=\"200\"}": 1.0,
                    "http_requests_total{route=\"/api/\",method=\"GET\",status=\"429\"}": 1,
                    "http_requests_total{route=\"/\",method=\"GET\",status=\"200\"}": 1,
                    "http_requests_total{route=\"/\",method=\"GET\",status=\"404\"}": 1,
                    "edge_rate_limit_rejections_total{zone=\"api\"}": 1,
                    "http_request_duration_seconds_count{route=\"/api/\"}": 2,
                ]
                var metrics = ""
                try await eventually("the requests to be counted") {
                    metrics = try edge.metrics()
                    return expected.allSatisfy { metricValue(metrics, $0.key) == $0.value }
                }
                #expect(!metrics.contains("/api/items"), "a raw path became a label")
                #expect(!metrics.contains("\"127.0.0.1\""), "a client address became a label")
            }
        }
    }

    @Test func adminListenerServesOnlyMetrics() async throws {
        try await withEdge(yaml: .proxying(to: [EdgeYAML.server("127.0.0.1:\(try deadPort())")])) { edge in
            let adminPort = try #require(edge.adminPort)
            let connection = try RawHTTPConnection(port: adminPort)
            defer { connection.close() }
            let other = try connection.request("GET", "/echo")
            #expect(other.status == 404)
            let metrics = try connection.request("GET", "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
        }
    }

    // MARK: Access log

    @Test func accessLogHasAJSONLinePerRequestWithItsIDAndSkipsForbiddenPathsAndQuietRoutes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("edge-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let logPath = directory.appendingPathComponent("access.log").path
        var ids: [String: String] = [:]
        try await withUpstreams(["a"]) { upstreams in
            var yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)])
            yaml.routes = ["{prefix: /app/, proxy: app}", "{prefix: /quiet/, proxy: app, access_log: false}"]
            yaml.logging = "{access_log: \"\(logPath)\", error_log: \"off\"}"
            try await withEdge(yaml: yaml) { edge in
                for path in ["/app/echo", "/nowhere", "/app/.env", "/quiet/echo"] {
                    let response = try edge.request("GET", path, headers: [("User-Agent", "edge-tests/1")])
                    ids[path] = response.header("X-Request-ID")
                }
            }
        }
        // The edge has shut down, which flushes the log.
        let lines = try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n")
        let records = try lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
        }
        #expect(records.count == 2, "one line each for the proxied request and the 404, none for the 403 or the quiet route")
        let proxied = try #require(records.first { $0["path"] as? String == "/app/echo" })
        #expect(proxied["request_id"] as? String == ids["/app/echo"])
        #expect(proxied["status"] as? Int == 200)
        #expect(proxied["method"] as? String == "GET")
        #expect(proxied["route"] as? String == "/app/")
        #expect(proxied["client"] as? String == "127.0.0.1")
        #expect((proxied["upstream"] as? String)?.hasPrefix("127.0.0.1:") == true)
        #expect(proxied["user_agent"] as? String == "edge-tests/1")
        let missing = try #require(records.first { $0["path"] as? String == "/nowhere" })
        #expect(missing["status"] as? Int == 404)
        #expect(missing["request_id"] as? String == ids["/nowhere"])
    }

    // MARK: Shutdown

    @Test func shutdownDrainsAnInFlightRequestWhileRefusingNewConnections() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let edge = try await startEdge(.proxying(to: [EdgeYAML.server(upstreams[0].address)]))
            let inFlight = try edge.connect()
            defer { inFlight.close() }
            try inFlight.sendRequest("GET", "/slow?ms=1000")
            try await eventually("the slow request to reach the upstream") { upstreams[0].requestCount(path: "/slow") == 1 }
            let idle = try edge.connect()
            defer { idle.close() }
            let idleResponse = try idle.request("GET", "/echo")
            #expect(idleResponse.status == 200)

            let started = ContinuousClock.now
            let shutdown = Task { await edge.server.shutdown(grace: .seconds(5)) }
            try await eventually("the listener to refuse connections") {
                do {
                    let probe = try edge.connect()
                    probe.close()
                    return false
                } catch let error as RawHTTPError where error.isConnectionRefused {
                    return true
                }
            }
            #expect(idle.isClosed(within: .seconds(2)), "an idle keep-alive connection is closed at once")
            let finished = try inFlight.readResponse(timeout: .seconds(5))
            #expect(finished.status == 200)
            #expect(finished.header("Connection")?.lowercased() == "close")
            await shutdown.value
            #expect(ContinuousClock.now - started < .seconds(4), "shutdown waited for the request, not the whole grace")
        }
    }

    @Test func shutdownGraceCutsOffARequestThatRunsTooLong() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let edge = try await startEdge(.proxying(to: [EdgeYAML.server(upstreams[0].address)]))
            let inFlight = try edge.connect()
            defer { inFlight.close() }
            try inFlight.sendRequest("GET", "/slow?ms=10000")
            try await eventually("the slow request to reach the upstream") { upstreams[0].requestCount(path: "/slow") == 1 }
            let started = ContinuousClock.now
            await edge.server.shutdown(grace: .milliseconds(500))
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .milliseconds(400) && elapsed < .seconds(3), "shutdown took \(elapsed)")
            #expect(inFlight.isClosed(within: .seconds(3)), "the connection is closed once the grace is over")
        }
    }
}
