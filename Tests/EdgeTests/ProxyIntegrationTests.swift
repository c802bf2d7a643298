import Foundation
import NIOHTTP1
import Testing

@testable import Edge

/// The edge in this process, on loopback, in front of ``TestUpstream``s, driven byte for byte by
/// ``RawHTTPConnection``. Serialized: several tests measure time or memory, which a neighbour
/// hammering the same two cores would skew.
///
/// This file: what a proxied request and its response look like (forwarding headers, request
/// IDs, header stripping, security headers), and the edge's own answers. The other
/// `ProxyIntegrationTests+*.swift` files cover limits, timeouts, upstream selection,
/// streaming, reload, metrics and shutdown.
@Suite("Proxy on loopback", .serialized)
struct ProxyIntegrationTests {
    /// The headers every response must carry (`edge-parity.md`, nginx `add_header … always`).
    static let securityHeaders = HeadersConfig.homerack.add

    /// Checks the security headers (each exactly once, with the configured value), a request ID,
    /// and that nothing identifies the upstream or a server version.
    static func expectDecorated(_ response: RawResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        for (name, value) in securityHeaders {
            #expect(response.values(name) == [value], "\(name) on a \(response.status)", sourceLocation: sourceLocation)
        }
        #expect(response.header("Server") == nil, "Server on a \(response.status)", sourceLocation: sourceLocation)
        #expect(response.header("X-Powered-By") == nil, "X-Powered-By on a \(response.status)", sourceLocation: sourceLocation)
        #expect(
            response.header("X-Request-ID").map { RequestID.isWellFormed(Substring($0)) } == true,
            "X-Request-ID on a \(response.status)", sourceLocation: sourceLocation)
    }

    @Test func anUpstreamContentSecurityPolicyIsKeptBesideTheEdges() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let response = try edge.request("GET", "/csp")
                let edgePolicy = try #require(Self.securityHeaders.first { $0.name == "Content-Security-Policy" }?.value)
                #expect(Set(response.values("Content-Security-Policy")) == [edgePolicy, "sandbox"], "both policies, so both apply")
                #expect(response.values("X-Frame-Options").count == 1, "other security headers still replace the upstream's")
            }
        }
    }

    // MARK: Forwarding headers

    @Test func getIsProxiedWithHostRealIPForwardedForProtoAndRequestID() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let response = try edge.request("GET", "/echo?x=1", headers: [("Host", "app.example:8443")])
                #expect(response.status == 200)
                let echo = try response.echo()
                #expect(echo.uri == "/echo?x=1")
                #expect(echo.values("Host") == ["app.example:8443"])
                #expect(echo.values("X-Real-IP") == ["127.0.0.1"])
                #expect(echo.values("X-Forwarded-For") == ["127.0.0.1"])
                #expect(echo.values("X-Forwarded-Proto") == ["http"])
                let id = try #require(echo.header("X-Request-ID"))
                #expect(id.count == 32 && id.allSatisfy(\.isHexDigit), "generated ID \(id)")
                #expect(response.values("X-Request-ID") == [id], "the client gets the ID the upstream saw")
            }
        }
    }

    @Test func forwardedForIsAppendedAndRequestIDKeptBehindATrustedProxy() async throws {
        try await withUpstreams(["a"]) { upstreams in
            var yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)])
            yaml.trustedProxies = "[\"127.0.0.1/32\"]"
            try await withEdge(yaml: yaml) { edge in
                let response = try edge.request(
                    "GET", "/echo",
                    headers: [
                        ("X-Forwarded-For", "198.51.100.7"), ("X-Request-ID", "lb-0123:abc"),
                        ("X-Forwarded-Proto", "https"),
                    ])
                let echo = try response.echo()
                #expect(echo.values("X-Forwarded-For") == ["198.51.100.7, 127.0.0.1"])
                #expect(echo.values("X-Real-IP") == ["198.51.100.7"])
                #expect(echo.values("X-Forwarded-Proto") == ["https"], "a trusted hop's scheme is kept")
                #expect(echo.values("X-Request-ID") == ["lb-0123:abc"])
                #expect(response.values("X-Request-ID") == ["lb-0123:abc"])
            }
        }
    }

    @Test func untrustedClientsForwardingClaimsAreReplaced() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let response = try edge.request(
                    "GET", "/echo",
                    headers: [
                        ("X-Forwarded-For", "6.6.6.6"), ("X-Real-IP", "6.6.6.6"), ("X-Forwarded-Proto", "https"),
                        ("X-Request-ID", "forged-id"), ("Forwarded", "for=6.6.6.6"),
                    ])
                let echo = try response.echo()
                #expect(echo.values("X-Forwarded-For") == ["127.0.0.1"])
                #expect(echo.values("X-Real-IP") == ["127.0.0.1"])
                #expect(echo.values("X-Forwarded-Proto") == ["http"])
                #expect(echo.values("Forwarded").isEmpty)
                #expect(echo.values("X-Request-ID").count == 1)
                #expect(echo.header("X-Request-ID") != "forged-id")
                #expect(response.header("X-Request-ID") == echo.header("X-Request-ID"))
            }
        }
    }

    @Test func hopByHopRequestHeadersAreNotForwarded() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let response = try edge.request(
                    "GET", "/echo",
                    headers: [
                        ("Connection", "keep-alive, X-Client-Hop"), ("X-Client-Hop", "secret"), ("Keep-Alive", "timeout=9"),
                        ("TE", "trailers"), ("Proxy-Authorization", "Basic Zm9vOmJhcg=="), ("Authorization", "Bearer t"),
                        ("Cookie", "session=1"),
                    ])
                let echo = try response.echo()
                for name in ["Connection", "X-Client-Hop", "Keep-Alive", "TE", "Proxy-Authorization"] {
                    #expect(echo.values(name).isEmpty, "\(name) was forwarded")
                }
                #expect(echo.values("Authorization") == ["Bearer t"])
                #expect(echo.values("Cookie") == ["session=1"])
            }
        }
    }

    // MARK: Response headers

    @Test func proxiedResponsesLoseUpstreamIdentityAndGainSecurityHeaders() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let response = try edge.request("GET", "/echo")
                #expect(response.status == 200)
                Self.expectDecorated(response)
                #expect(response.values("X-Frame-Options") == ["SAMEORIGIN"], "the upstream's ALLOWALL is replaced")
                #expect(response.header("X-Upstream-Hop") == nil, "a header the upstream's Connection named")
                #expect(response.header("Keep-Alive") == nil)
                #expect(response.header("X-Upstream") == "a", "ordinary upstream headers pass")
            }
        }
    }

    @Test func edgeOwnAnswersCarrySecurityHeadersAndNoServerHeader() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let dead = try deadPort()
            var yaml = EdgeYAML()
            yaml.upstreams = [
                .init(name: "app", servers: [EdgeYAML.server(upstreams[0].address)]),
                .init(name: "gone", servers: [EdgeYAML.server("127.0.0.1:\(dead)")], options: ["connect_timeout: 1s"]),
            ]
            yaml.routes = [
                "{prefix: /app/, proxy: app}",
                "{prefix: /limited/, proxy: app, rate_limit: {zone: slow, burst: 0, nodelay: true}}",
                "{prefix: /gone/, proxy: gone}",
            ]
            yaml.limits = "{max_body_size: 1k, zones: {slow: {rate: 1r/m, capacity: 100}}}"
            try await withEdge(yaml: yaml) { edge in
                var answers: [(expected: Int, response: RawResponse)] = []
                answers.append((404, try edge.request("GET", "/nowhere")))
                answers.append((403, try edge.request("GET", "/app/.env")))
                answers.append((413, try edge.request("POST", "/app/echo", headers: [("Content-Length", "2048")])))
                let firstLimited = try edge.request("GET", "/limited/")
                #expect(firstLimited.status == 200)
                answers.append((429, try edge.request("GET", "/limited/")))
                answers.append((502, try edge.request("GET", "/gone/")))
                for (expected, response) in answers {
                    #expect(response.status == expected)
                    Self.expectDecorated(response)
                    #expect(response.header("Content-Type") == "application/json")
                    // The API's envelope: `detail`, and an `error` object with code, message and the request's ID.
                    let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any], "body \(response.text)")
                    let error = try #require(object["error"] as? [String: Any], "body \(response.text)")
                    #expect(error["code"] as? String == AnswerContent.envelopeCode(for: expected))
                    #expect(error["message"] as? String == object["detail"] as? String)
                    #expect(error["request_id"] as? String == response.header("X-Request-ID"))
                }
                #expect(upstreams[0].requestCount(path: "/app/echo") == 0)
            }
        }
    }

    // MARK: Routing and the path guard

    @Test(arguments: ["/.env", "/a~", "/app/.git/config", "/%2egit/HEAD", "/%2Eenv", "/index.html%7e", "/a/..%2f.env"])
    func hiddenAndBackupPathsAre403AndNeverForwarded(path: String) async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let response = try edge.request("GET", path)
                #expect(response.status == 403)
                #expect(upstreams[0].requestCount == 0)
            }
        }
    }

    @Test func wellKnownPathsAndQueriesWithDotsAreProxied() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                for path in ["/.well-known/acme-challenge/token", "/search?q=/.env~", "/files/report.v2.pdf"] {
                    let response = try edge.request("GET", path)
                    #expect(response.status == 200, "\(path)")
                }
                #expect(upstreams[0].requestCount == 3)
            }
        }
    }

    @Test func pathWithoutARouteIs404AndLongestPrefixWins() async throws {
        try await withUpstreams(["a", "b"]) { upstreams in
            var yaml = EdgeYAML()
            yaml.upstreams = [
                .init(name: "web", servers: [EdgeYAML.server(upstreams[0].address)]),
                .init(name: "api", servers: [EdgeYAML.server(upstreams[1].address)]),
            ]
            yaml.routes = ["{prefix: /app, proxy: web}", "{prefix: /app/api/, proxy: api}"]
            try await withEdge(yaml: yaml) { edge in
                for (path, upstream) in [("/app/api/x", "b"), ("/app/apix", "a"), ("/app", "a")] {
                    let response = try edge.request("GET", path)
                    #expect(response.header("X-Upstream") == upstream, "\(path)")
                }
                let missing = try edge.request("GET", "/ap")
                #expect(missing.status == 404)
                #expect(upstreams[0].requestCount + upstreams[1].requestCount == 3)
            }
        }
    }

    // MARK: Fixed answers

    @Test func respondAndRedirectRoutesAnswerWithoutAnUpstream() async throws {
        var yaml = EdgeYAML()
        yaml.routes = [
            "{prefix: /ping, respond: {status: 200, body: \"pong\\n\", content_type: text/plain}}",
            "{prefix: /old/, redirect: {location: \"https://new.example/docs/\", status: 308, append_path: true}}",
        ]
        try await withEdge(yaml: yaml) { edge in
            let pong = try edge.request("GET", "/ping")
            #expect(pong.status == 200)
            #expect(pong.text == "pong\n")
            #expect(pong.header("Content-Type") == "text/plain")
            Self.expectDecorated(pong)
            let moved = try edge.request("POST", "/old/guide/intro?x=1", body: Array("k=v".utf8))
            #expect(moved.status == 308)
            #expect(moved.header("Location") == "https://new.example/docs/guide/intro?x=1")
        }
    }

    /// RFC 9110 §9.3.2: a response to HEAD has no content. A body after the head would be read by
    /// the client as the start of the next response on the connection.
    @Test func headAnsweredByTheEdgeHasNoBody() async throws {
        try await withUpstreams(["a"]) { upstreams in
            var yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)])
            yaml.routes = ["{prefix: /app/, proxy: app}"]
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                for path in ["/nowhere", "/app/.env"] {
                    let head = try connection.request("HEAD", path)
                    #expect([404, 403].contains(head.status))
                    let next = try connection.request("GET", "/app/echo")
                    #expect(next.status == 200, "the response after HEAD \(path) was read out of step")
                }
            }
        }
    }

    // MARK: Connection handling

    @Test func keepAliveConnectionCarriesSeveralRequestsIncludingHead() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                let head = try connection.request("HEAD", "/big?bytes=1000")
                #expect(head.status == 200)
                #expect(head.header("Content-Length") == "1000")
                let get = try connection.request("GET", "/big?bytes=1000")
                #expect(get.bodyLength == 1000)
                let echo = try connection.request("GET", "/echo")
                #expect(echo.status == 200)
            }
        }
    }

    @Test func connectionCloseRequestIsAnsweredThenTheConnectionCloses() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                let response = try connection.request("GET", "/echo", headers: [("Connection", "close")])
                #expect(response.status == 200)
                #expect(response.header("Connection")?.lowercased() == "close")
                try connection.waitForClose(timeout: .seconds(2))
            }
        }
    }

    /// `HTTPServerPipelineHandler` hands `ClientHandler` the next pipelined request head from
    /// inside the write of the previous response's `.end`: the handler must have left
    /// `.proxying` before that write (it used to crash the process here).
    @Test
    func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                try connection.send(
                    "GET /slow?ms=100 HTTP/1.1\r\nHost: a\r\n\r\nGET /status/201 HTTP/1.1\r\nHost: a\r\n\r\nGET /.env HTTP/1.1\r\nHost: a\r\n\r\n")
                var statuses: [Int] = []
                for _ in 0..<3 { statuses.append(try connection.readResponse().status) }
                #expect(statuses == [200, 201, 403])
            }
        }
    }

    /// The same for a local answer: the 502's `.end` releases the next pipelined head inside the
    /// write, so the handler must have left `.local` before it.
    @Test
    func pipelinedRequestAfterAnUpstreamFailureIsAnswered() async throws {
        try await withUpstreams(["a"]) { upstreams in
            var yaml = EdgeYAML()
            yaml.upstreams = [
                .init(name: "app", servers: [EdgeYAML.server(upstreams[0].address)]),
                .init(name: "gone", servers: [EdgeYAML.server("127.0.0.1:\(try deadPort())")], options: ["connect_timeout: 1s"]),
            ]
            yaml.routes = ["{prefix: /, proxy: app}", "{prefix: /gone/, proxy: gone}"]
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                try connection.send("GET /gone/ HTTP/1.1\r\nHost: a\r\n\r\nGET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
                var statuses: [Int] = []
                for _ in 0..<2 { statuses.append(try connection.readResponse().status) }
                #expect(statuses == [502, 200])
            }
        }
    }

    @Test func pipelinedRequestsAnsweredByTheEdgeItselfAreAnsweredInOrder() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                try connection.send("GET /.env HTTP/1.1\r\nHost: a\r\n\r\nGET /a~ HTTP/1.1\r\nHost: a\r\n\r\nGET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
                var statuses: [Int] = []
                for _ in 0..<3 { statuses.append(try connection.readResponse().status) }
                #expect(statuses == [403, 403, 200])
            }
        }
    }
}
