import Testing

@testable import Edge

/// Client timeouts (`client_header`, `keepalive`, `client_body`) and the upstream read timeout.
/// Every wait is bounded; the lower bounds allow for timer slack, the upper ones for a busy machine.
extension ProxyIntegrationTests {
    static func timed(_ upstream: TestUpstream, timeouts: String, options: [String] = []) -> EdgeYAML {
        var yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstream.address)], options: options)
        yaml.timeouts = timeouts
        return yaml
    }

    // MARK: Request head

    @Test func partialHeadThenSilenceGets408AfterClientHeaderTimeout() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let yaml = Self.timed(upstreams[0], timeouts: "{client_header: 1s, keepalive: 5s}")
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                let started = ContinuousClock.now
                try connection.send("GET /echo HTTP/1.1\r\nHost: a\r\nX-Slow: ")
                let response = try connection.readResponse(timeout: .seconds(5))
                let elapsed = ContinuousClock.now - started
                #expect(response.status == 408)
                #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(3), "408 after \(elapsed)")
                Self.expectDecorated(response)
                try connection.waitForClose(timeout: .seconds(2))
                #expect(upstreams[0].requestCount == 0)
            }
        }
    }

    @Test func headTrickledByteByByteStillTimesOutFromItsFirstByte() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let yaml = Self.timed(upstreams[0], timeouts: "{client_header: 1s, keepalive: 5s}")
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                let started = ContinuousClock.now
                // A byte every 100 ms never completes the head within the second it has.
                for byte in "GET /echo HTTP/1.1\r\nHost: a\r\n".utf8 {
                    do {
                        try connection.send([byte])
                    } catch {
                        break  // closed after the 408: expected
                    }
                    if ContinuousClock.now - started > .milliseconds(1500) { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                let response = try connection.readResponse(timeout: .seconds(3))
                #expect(response.status == 408)
                #expect(ContinuousClock.now - started < .seconds(3))
            }
        }
    }

    /// The head's `client_header` runs from its first byte, on a reused connection as on a new
    /// one, not from whenever the keep-alive wait would have ended.
    @Test func partialHeadOnAKeepAliveConnectionGets408AfterClientHeaderFromItsFirstByte() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let yaml = Self.timed(upstreams[0], timeouts: "{client_header: 1s, keepalive: 4s}")
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                let first = try connection.request("GET", "/echo")
                #expect(first.status == 200)
                let started = ContinuousClock.now
                try connection.send("GET /echo HTTP/1.1\r\nHo")
                let response = try connection.readResponse(timeout: .seconds(6))
                let elapsed = ContinuousClock.now - started
                #expect(response.status == 408)
                #expect(elapsed >= .milliseconds(900) && elapsed < .milliseconds(2500), "408 after \(elapsed)")
            }
        }
    }

    @Test func silentNewConnectionIsClosedWithoutAnAnswer() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let yaml = Self.timed(upstreams[0], timeouts: "{client_header: 1s, keepalive: 5s}")
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                let elapsed = try connection.waitForClose(timeout: .seconds(4))
                #expect(elapsed >= .milliseconds(900), "closed after \(elapsed)")
            }
        }
    }

    // MARK: Keep-alive

    @Test func idleKeepAliveConnectionIsClosedAfterKeepaliveTimeout() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let yaml = Self.timed(upstreams[0], timeouts: "{client_header: 3s, keepalive: 500ms}")
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                let response = try connection.request("GET", "/echo")
                #expect(response.status == 200)
                #expect(response.header("Connection") == nil, "kept alive")
                let elapsed = try connection.waitForClose(timeout: .seconds(4))
                #expect(elapsed >= .milliseconds(400) && elapsed < .milliseconds(2500), "closed after \(elapsed)")
            }
        }
    }

    /// The keep-alive timer restarts with every request: a connection reused for longer than
    /// `keepalive` in all, idle only between its requests, stays open, and closes `keepalive`
    /// after its last one. No sleep paces it (a fixed idle gap, overrun on a loaded machine,
    /// would decide the result): the requests follow each other until the connection has lived
    /// two and a half times `keepalive`.
    @Test func keepAliveConnectionUsedWithinTheTimeoutStaysOpen() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let yaml = Self.timed(upstreams[0], timeouts: "{client_header: 3s, keepalive: 800ms}")
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                let opened = ContinuousClock.now
                var requests = 0
                while ContinuousClock.now - opened < .milliseconds(2000) {
                    let response = try connection.request("GET", "/echo")
                    #expect(response.status == 200)
                    #expect(response.header("Connection") == nil, "kept alive")
                    requests += 1
                    await Task.yield()
                }
                #expect(requests >= 2)
                #expect(upstreams[0].requestCount(path: "/echo") == requests)
                // Still open after 2.5 x keepalive, and it does close once left idle.
                let elapsed = try connection.waitForClose(timeout: .seconds(4))
                #expect(elapsed >= .milliseconds(400) && elapsed < .milliseconds(2500), "closed after \(elapsed)")
            }
        }
    }

    // MARK: Request body

    @Test func stalledRequestBodyGets408AfterClientBodyTimeout() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let yaml = Self.timed(upstreams[0], timeouts: "{client_header: 3s, client_body: 1s, keepalive: 5s}")
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                let started = ContinuousClock.now
                try connection.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789")
                let response = try connection.readResponse(timeout: .seconds(5))
                let elapsed = ContinuousClock.now - started
                #expect(response.status == 408)
                #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(3), "408 after \(elapsed)")
                try connection.waitForClose(timeout: .seconds(2))
            }
        }
    }

    // MARK: Upstream read timeout

    @Test func upstreamSlowerThanReadTimeoutGives504() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let yaml = Self.timed(upstreams[0], timeouts: "{client_header: 3s, keepalive: 3s}", options: ["read_timeout: 500ms"])
            try await withEdge(yaml: yaml) { edge in
                let started = ContinuousClock.now
                let response = try edge.request("GET", "/slow?ms=3000")
                let elapsed = ContinuousClock.now - started
                #expect(response.status == 504)
                #expect(elapsed >= .milliseconds(450) && elapsed < .milliseconds(2500), "504 after \(elapsed)")
                Self.expectDecorated(response)
                // The timed-out request is no longer counted as in flight.
                try await eventually("the in-flight gauge to drop") {
                    metricValue(try edge.metrics(), "edge_upstream_in_flight{upstream=\"app\",server=\"\(upstreams[0].address)\"}") == 0
                }
            }
        }
    }

    @Test func routeReadTimeoutOverridesTheUpstreams() async throws {
        try await withUpstreams(["a"]) { upstreams in
            var yaml = Self.timed(upstreams[0], timeouts: "{client_header: 3s, keepalive: 3s}", options: ["read_timeout: 300ms"])
            yaml.routes = ["{prefix: /, proxy: app, read_timeout: 3s}"]
            try await withEdge(yaml: yaml) { edge in
                let response = try edge.request("GET", "/slow?ms=600")
                #expect(response.status == 200)
            }
        }
    }

    /// A bodiless request is handed to the upstream at the end of the loop's batch; once it is
    /// written, the response timeout runs, not the (shorter) send timeout: on a new upstream
    /// connection and on the pooled one the second request reuses.
    @Test func aSlowResponseToAWrittenRequestWaitsForTheReadTimeoutNotTheSendTimeout() async throws {
        try await withUpstreams(["a"]) { upstreams in
            var yaml = Self.timed(upstreams[0], timeouts: "{client_header: 3s, keepalive: 3s}")
            yaml.routes = ["{prefix: /, proxy: app, send_timeout: 300ms, read_timeout: 5s}"]
            try await withEdge(yaml: yaml) { edge in
                for attempt in ["a new upstream connection", "the pooled connection"] {
                    let response = try edge.request("GET", "/slow?ms=900")
                    #expect(response.status == 200, "\(attempt)")
                }
            }
        }
    }
}
