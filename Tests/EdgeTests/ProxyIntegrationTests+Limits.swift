import Testing

@testable import Edge

/// Rate limits, the per-client connection cap and body size limits.
extension ProxyIntegrationTests {
    // MARK: Rate limits

    /// `zone` allows one request a minute, so only the burst passes within the test.
    static func rateLimited(_ upstream: TestUpstream, burst: Int, status: Int? = nil) -> EdgeYAML {
        var yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstream.address)])
        yaml.routes = ["{prefix: /, proxy: app, rate_limit: {zone: perclient, burst: \(burst), nodelay: true}}"]
        let statusKey = status.map { "rate_limit_status: \($0), " } ?? ""
        yaml.limits = "{\(statusKey)zones: {perclient: {rate: 1r/m, capacity: 1000}}}"
        return yaml
    }

    @Test func rateLimitPassesBurstPlusOneThenAnswers429WithRetryAfter() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: Self.rateLimited(upstreams[0], burst: 3)) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                for index in 0..<4 {
                    let response = try connection.request("GET", "/echo")
                    #expect(response.status == 200, "request \(index + 1) of burst + 1")
                }
                let refused = try connection.request("GET", "/echo")
                #expect(refused.status == 429)
                let retryAfter = try #require(refused.header("Retry-After").flatMap { Int($0) })
                #expect((1...60).contains(retryAfter), "Retry-After \(retryAfter) for 1r/m")
                #expect(upstreams[0].requestCount == 4, "the refused request never reached the upstream")
                let again = try connection.request("GET", "/echo")
                #expect(again.status == 429, "the connection stays usable after a 429")
            }
        }
    }

    @Test func rateLimitStatusCanBe503AsNginx() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: Self.rateLimited(upstreams[0], burst: 0, status: 503)) { edge in
                let first = try edge.request("GET", "/echo")
                #expect(first.status == 200)
                let refused = try edge.request("GET", "/echo")
                #expect(refused.status == 503)
                #expect(refused.header("Retry-After") != nil)
            }
        }
    }

    @Test func rateLimitWithoutNodelaySpacesTheBurstOut() async throws {
        try await withUpstreams(["a"]) { upstreams in
            var yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)])
            yaml.routes = ["{prefix: /, proxy: app, rate_limit: {zone: perclient, burst: 5, nodelay: false}}"]
            yaml.limits = "{zones: {perclient: {rate: 4r/s, capacity: 1000}}}"
            yaml.timeouts = "{client_header: 3s, keepalive: 3s}"
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                let started = ContinuousClock.now
                for _ in 0..<3 {
                    let response = try connection.request("GET", "/echo")
                    #expect(response.status == 200)
                }
                // At 4 r/s the second and third wait about 250 ms each.
                let elapsed = ContinuousClock.now - started
                #expect(elapsed >= .milliseconds(400) && elapsed < .seconds(2), "three requests took \(elapsed)")
            }
        }
    }

    /// A delayed request waits with its body and a pipelined request behind it: both go upstream
    /// whole, in order, after the delays.
    @Test func aDelayedRequestKeepsItsBodyAndThePipelinedRequestBehindIt() async throws {
        try await withUpstreams(["a"]) { upstreams in
            var yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)])
            yaml.routes = ["{prefix: /, proxy: app, rate_limit: {zone: perclient, burst: 5, nodelay: false}}"]
            yaml.limits = "{zones: {perclient: {rate: 4r/s, capacity: 1000}}}"
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                #expect(try connection.request("GET", "/echo").status == 200)
                let body = [UInt8](repeating: 0x62, count: 20_000)
                let post = "POST /echo?n=1 HTTP/1.1\r\nHost: edge.test\r\nContent-Length: \(body.count)\r\n\r\n"
                let get = "GET /echo?n=2 HTTP/1.1\r\nHost: edge.test\r\n\r\n"
                try connection.send(Array(post.utf8) + body + Array(get.utf8))
                let first = try connection.readResponse(timeout: .seconds(5))
                let second = try connection.readResponse(timeout: .seconds(5))
                #expect(first.status == 200)
                #expect(first.text.contains("\"bodyLength\":20000"), "\(first.text)")
                #expect(first.text.contains("/echo?n=1"))
                #expect(second.status == 200)
                #expect(second.text.contains("/echo?n=2"))
                #expect(upstreams[0].requestCount(path: "/echo") == 3)
            }
        }
    }

    @Test func rateLimitKeysClientsBehindATrustedProxyByTheirForwardedAddress() async throws {
        try await withUpstreams(["a"]) { upstreams in
            var yaml = Self.rateLimited(upstreams[0], burst: 0)
            yaml.trustedProxies = "[\"127.0.0.1/32\"]"
            try await withEdge(yaml: yaml) { edge in
                let first = [("X-Forwarded-For", "198.51.100.1")]
                let second = [("X-Forwarded-For", "198.51.100.2")]
                let statuses = try [first, first, second, second].map { try edge.request("GET", "/echo", headers: $0).status }
                #expect(statuses == [200, 429, 200, 429], "each forwarded client has its own bucket")
            }
        }
    }

    // MARK: Connections per client

    @Test func eleventhConcurrentConnectionFromOneClientGets503() async throws {
        try await withUpstreams(["a"]) { upstreams in
            var yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)], limits: "{connections_per_client: 10}")
            yaml.timeouts = "{client_header: 5s, keepalive: 5s}"
            try await withEdge(yaml: yaml) { edge in
                // Each of the ten is known to hold its slot once it has been answered.
                var open: [RawHTTPConnection] = []
                for index in 0..<10 {
                    let connection = try edge.connect()
                    open.append(connection)
                    let response = try connection.request("GET", "/echo")
                    #expect(response.status == 200, "connection \(index + 1)")
                }
                let eleventh = try edge.connect()
                let refused = try eleventh.request("GET", "/echo")
                #expect(refused.status == 503)
                #expect(refused.header("Connection")?.lowercased() == "close")
                Self.expectDecorated(refused)
                try eleventh.waitForClose(timeout: .seconds(2))
                #expect(upstreams[0].requestCount == 10)

                // Closing one frees its slot for a new connection.
                open.removeFirst().close()
                try await eventually("a freed connection slot") {
                    let connection = try edge.connect()
                    defer { connection.close() }
                    return try connection.request("GET", "/echo").status == 200
                }
                for connection in open { connection.close() }
            }
        }
    }

    // MARK: Body size

    @Test func bodyOverMaxSizeByContentLengthIs413WithoutReachingUpstream() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)], limits: "{max_body_size: 1k}")
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                try connection.sendRequest("POST", "/echo", headers: [("Content-Length", "1025")])
                let response = try connection.readResponse()
                #expect(response.status == 413)
                #expect(response.header("Connection")?.lowercased() == "close")
                try connection.waitForClose(timeout: .seconds(2))

                let atLimit = try edge.request("POST", "/echo", body: Array(repeating: 0x61, count: 1024))
                #expect(atLimit.status == 200)
                #expect(try atLimit.echo().bodyLength == 1024)
                #expect(upstreams[0].requestCount == 1, "only the request within the limit was forwarded")
            }
        }
    }

    @Test func bodyOverMaxSizeIs413EvenWhenTheClientAlreadySentTheBody() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)], limits: "{max_body_size: 1k}")
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                try connection.sendRequest("POST", "/echo", body: Array(repeating: 0x61, count: 4096))
                let response = try connection.readResponse()
                #expect(response.status == 413)
                #expect(upstreams[0].requestCount == 0)
            }
        }
    }

    @Test func chunkedBodyGrowingOverMaxSizeIs413() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)], limits: "{max_body_size: 1k}")
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                try connection.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
                try connection.send("200\r\n" + String(repeating: "a", count: 512) + "\r\n")
                try connection.send("400\r\n" + String(repeating: "b", count: 1024) + "\r\n0\r\n\r\n")
                let response = try connection.readResponse()
                #expect(response.status == 413)
                Self.expectDecorated(response)
                try connection.waitForClose(timeout: .seconds(2))
                #expect(upstreams[0].requestCount(path: "/echo") <= 1, "at most the head went up, and no answer came back")
            }
        }
    }

    @Test func chunkedBodyWithinMaxSizeIsForwardedWhole() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)], limits: "{max_body_size: 1k}")
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                try connection.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
                try connection.send("200\r\n" + String(repeating: "a", count: 512) + "\r\n200\r\n" + String(repeating: "b", count: 512) + "\r\n0\r\n\r\n")
                let response = try connection.readResponse()
                #expect(response.status == 200)
                #expect(try response.echo().bodyLength == 1024)
            }
        }
    }
}
