import Foundation
import NIOSSL
import Testing

@testable import Edge

/// Listeners on the edge's own I/O core against raw HTTP/1.x requests: what a client gets for
/// each kind of request (proxied, the edge's own answers, refusals), what the upstream sees,
/// and what two listeners of one edge share (the connection cap, metrics, the access log).
@Suite("Core listener")
struct CoreListenerTests {
    /// The ports of an edge's two listeners (`public`, then `second`).
    struct Ports {
        var first: Int
        var second: Int
    }

    static func withTwoListeners(
        _ yaml: EdgeYAML, _ body: (Ports, EdgeUnderTest) async throws -> Void
    ) async throws {
        var config = try yaml.config()
        config.listeners.append(ListenerConfig(name: "second", address: .tcp(host: "127.0.0.1", port: 0)))
        try await withEdge(config: config) { edge in
            let addresses = edge.server.listenerAddresses
            guard addresses.count == 2, let first = addresses[0].port, let second = addresses[1].port else {
                throw TestFailure("expected two listeners, got \(addresses)")
            }
            try await body(Ports(first: first, second: second), edge)
        }
    }

    static func yaml(upstream: TestUpstream) -> EdgeYAML {
        var yaml = EdgeYAML()
        yaml.upstreams = [.init(name: "app", servers: [EdgeYAML.server("127.0.0.1:\(upstream.port)")])]
        yaml.routes = [
            "{prefix: /api/, proxy: app}",
            "{prefix: /echo, proxy: app}",
            "{prefix: /csp, proxy: app}",
            "{prefix: /status/, proxy: app}",
            "{prefix: /chunked, proxy: app}",
            "{prefix: /fixed, respond: {status: 418, body: \"no coffee\\n\", content_type: text/plain}}",
            "{prefix: /moved, redirect: {location: \"https://elsewhere.test/new\", status: 301}}",
        ]
        return yaml
    }

    /// Sends `request` (raw bytes) on a new connection, returns the answer.
    static func send(_ request: String, port: Int, isHead: Bool = false) async throws -> RawResponse {
        try await offThePool {
            let connection = try RawHTTPConnection(port: port)
            defer { connection.close() }
            try connection.send(request)
            return try connection.readResponse(isHead: isHead)
        }
    }

    /// What a request must get: its status, whether the edge closes after it, and a check of
    /// its body (the request ID written as `<id>`).
    struct Expected: CustomTestStringConvertible, Sendable {
        var request: String
        var status: Int
        var closes = false
        var body: @Sendable (String) -> Bool
        var testDescription: String { request.prefix { $0 != "\r" }.description }
    }

    static let answers: [Expected] = [
        Expected(request: "GET /api/x HTTP/1.1\r\nHost: edge.test\r\n\r\n", status: 200) { $0 == "hello from u\n" },
        Expected(request: "GET /api/x HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\n\r\n", status: 200, closes: true) {
            $0 == "hello from u\n"
        },
        Expected(request: "GET /api/x HTTP/1.0\r\nHost: edge.test\r\n\r\n", status: 200, closes: true) { $0 == "hello from u\n" },
        Expected(request: "HEAD /api/x HTTP/1.1\r\nHost: edge.test\r\n\r\n", status: 200) { $0.isEmpty },
        Expected(request: "GET /csp HTTP/1.1\r\nHost: edge.test\r\n\r\n", status: 200) { $0 == "sandboxed\n" },
        Expected(request: "GET /status/503 HTTP/1.1\r\nHost: edge.test\r\n\r\n", status: 503) { $0 == "status 503 from u\n" },
        Expected(request: "GET /chunked?bytes=3000 HTTP/1.1\r\nHost: edge.test\r\n\r\n", status: 200) {
            $0 == String(repeating: "c", count: 3000)
        },
        Expected(request: "GET /nowhere HTTP/1.1\r\nHost: edge.test\r\n\r\n", status: 404) {
            $0.contains("\"RESOURCE_NOT_FOUND\"") && $0.contains("\"<id>\"")
        },
        Expected(request: "HEAD /nowhere HTTP/1.1\r\nHost: edge.test\r\n\r\n", status: 404) { $0.isEmpty },
        Expected(request: "GET /fixed HTTP/1.1\r\nHost: edge.test\r\n\r\n", status: 418) { $0 == "no coffee\n" },
        Expected(request: "GET /moved HTTP/1.1\r\nHost: edge.test\r\n\r\n", status: 301) { $0.isEmpty },
        Expected(request: "GET /.git/config HTTP/1.1\r\nHost: edge.test\r\n\r\n", status: 403) { $0.contains("\"<id>\"") },
        Expected(request: "GET /api/x HTTP/1.1\r\n\r\n", status: 400, closes: true) { $0.contains("Host") },
        Expected(request: "GET /api/x HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n", status: 400, closes: true) {
            $0.contains("Host")
        },
        Expected(
            request: "POST /api/x HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 20000000\r\n\r\n", status: 413, closes: true
        ) { $0.contains("\"<id>\"") },
        Expected(request: "POST /nowhere HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 3\r\n\r\nabc", status: 404) {
            $0.contains("\"RESOURCE_NOT_FOUND\"")
        },
    ]

    /// Every answer, proxied or the edge's own, carries the security headers (the upstream's
    /// `X-Frame-Options` replaced, its CSP kept beside the edge's), a request ID, no upstream
    /// `Server`/`X-Powered-By`, and `Connection: close` exactly when the edge closes.
    @Test(arguments: Self.answers)
    func eachKindOfRequestGetsItsAnswer(_ expected: Expected) async throws {
        try await withUpstreams(["u"]) { upstreams in
            try await withEdge(yaml: Self.yaml(upstream: upstreams[0])) { edge in
                let request = expected.request
                let response = try await Self.send(request, port: edge.port, isHead: request.hasPrefix("HEAD"))
                #expect(response.status == expected.status)
                let requestID = try #require(response.header("x-request-id"))
                #expect(requestID.count == 32)
                #expect(expected.body(response.text.replacingOccurrences(of: requestID, with: "<id>")), "body: \(response.text)")
                for (name, value) in HeadersConfig.homerack.add {
                    #expect(response.values(name).contains(value), "\(name) in \(response.headers)")
                }
                #expect(response.values("x-frame-options") == ["SAMEORIGIN"])
                #expect(response.header("server") == nil && response.header("x-powered-by") == nil)
                let closing = response.values("connection").contains { $0.lowercased() == "close" }
                #expect(closing == (expected.closes && !request.contains("HTTP/1.0")), "Connection: \(response.values("connection"))")
                if request.hasPrefix("GET /csp") { #expect(response.values("content-security-policy").contains("sandbox")) }
                if request.hasPrefix("GET /moved") { #expect(response.header("location") == "https://elsewhere.test/new") }
                if request.hasPrefix("GET /fixed") { #expect(response.header("content-type") == "text/plain") }
                if expected.status == 200, !request.hasPrefix("HEAD") {
                    #expect(response.header("x-upstream") == "u")
                }
            }
        }
    }

    /// The forwarding fields the edge sets replace a client's claims (the peer is not a trusted
    /// proxy), hop-by-hop fields and those a `Connection` header names stay behind, the request
    /// goes up as HTTP/1.1 in origin form, and bodies arrive whole in their framing.
    @Test func theUpstreamSeesTheRewrittenRequest() async throws {
        try await withUpstreams(["u"]) { upstreams in
            try await withEdge(yaml: Self.yaml(upstream: upstreams[0])) { edge in
                func seen(_ request: String) async throws -> (EchoReport, String) {
                    let response = try await Self.send(request, port: edge.port)
                    #expect(response.status == 200, "\(request.debugDescription)")
                    #expect(response.header("x-upstream-hop") == nil && response.header("keep-alive") == nil)
                    return (try response.echo(), try #require(response.header("x-request-id")))
                }
                let (claims, id) = try await seen(
                    "GET /echo?q=1 HTTP/1.1\r\nHost: edge.test\r\nX-Forwarded-For: 6.6.6.6\r\nX-Real-IP: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nForwarded: for=6.6.6.6\r\nX-Request-ID: forged\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nProxy-Authorization: Basic eA==\r\nAccept: */*\r\n\r\n"
                )
                #expect(claims.method == "GET" && claims.uri == "/echo?q=1")
                #expect(claims.header("host") == "edge.test")
                #expect(claims.header("x-forwarded-for") == "127.0.0.1")
                #expect(claims.header("x-real-ip") == "127.0.0.1")
                #expect(claims.header("x-forwarded-proto") == "http")
                #expect(claims.header("x-request-id") == id)
                #expect(claims.header("accept") == "*/*")
                for gone in ["forwarded", "x-secret", "proxy-authorization", "connection", "keep-alive"] {
                    #expect(claims.header(gone) == nil, "\(gone) reached the upstream: \(claims.headers)")
                }
                let (absolute, _) = try await seen("GET http://edge.test/echo?abs=1 HTTP/1.0\r\nHost: edge.test\r\n\r\n")
                #expect(absolute.uri == "/echo?abs=1")
                let (sized, _) = try await seen("POST /echo HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 5\r\n\r\nhello")
                #expect(sized.method == "POST" && sized.bodyLength == 5 && sized.header("content-length") == "5")
                let (chunked, _) = try await seen(
                    "POST /echo HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
                #expect(chunked.bodyLength == 5 && chunked.header("transfer-encoding") == "chunked")
            }
        }
    }

    @Test func aRateLimitAnswers429WithRetryAfterOnTheCore() async throws {
        try await withUpstreams(["u"]) { upstreams in
            var yaml = Self.yaml(upstream: upstreams[0])
            yaml.limits = "{zones: {tight: {rate: 1r/m}}}"
            yaml.routes = ["{prefix: /, proxy: app, rate_limit: {zone: tight, burst: 1, nodelay: true}}"]
            try await Self.withTwoListeners(yaml) { ports, _ in
                try await offThePool {
                    let connection = try RawHTTPConnection(port: ports.first)
                    defer { connection.close() }
                    var statuses: [Int] = []
                    var retryAfter: String?
                    for _ in 0..<3 {
                        let response = try connection.request("GET", "/api/x")
                        statuses.append(response.status)
                        if response.status == 429 { retryAfter = response.header("retry-after") }
                    }
                    #expect(statuses == [200, 200, 429])
                    #expect(retryAfter.flatMap { Int($0) }.map { $0 >= 1 } == true)
                }
            }
        }
    }

    @Test func theConnectionCapCountsCoreConnectionsToo() async throws {
        try await withUpstreams(["u"]) { upstreams in
            var yaml = Self.yaml(upstream: upstreams[0])
            yaml.limits = "{connections_per_client: 2, connection_limit_status: 503}"
            try await Self.withTwoListeners(yaml) { ports, edge in
                try await offThePool {
                    let first = try RawHTTPConnection(port: ports.first)
                    let second = try RawHTTPConnection(port: ports.second)
                    defer {
                        first.close()
                        second.close()
                    }
                    #expect(try first.request("GET", "/api/x").status == 200)
                    #expect(try second.request("GET", "/api/x").status == 200)
                    let third = try RawHTTPConnection(port: ports.first)
                    defer { third.close() }
                    let refused = try third.request("GET", "/api/x")
                    #expect(refused.status == 503)
                    #expect(refused.header("connection") == "close")
                }
                // Closing one frees its slot, whichever listener it came through.
                try await eventually("a slot frees") {
                    let connection = try RawHTTPConnection(port: ports.first)
                    defer { connection.close() }
                    return try connection.request("GET", "/api/x").status == 200
                }
                let metrics = try edge.metrics()
                #expect((metricValue(metrics, "edge_connection_limit_rejections_total") ?? 0) >= 1)
            }
        }
    }

    @Test func aKeepAliveConnectionCarriesManyRequestsAndTheAccessLogRecordsThem() async throws {
        try await withUpstreams(["u"]) { upstreams in
            try await Self.withTwoListeners(Self.yaml(upstream: upstreams[0])) { ports, edge in
                try await offThePool {
                    let connection = try RawHTTPConnection(port: ports.first)
                    defer { connection.close() }
                    for i in 0..<20 {
                        let response = try connection.request("GET", "/api/item/\(i)")
                        #expect(response.status == 200)
                    }
                    #expect(try connection.request("GET", "/nowhere").status == 404)
                    #expect(try connection.request("GET", "/api/after-404").status == 200)
                }
                let metrics = try edge.metrics()
                let proxied = metricValue(metrics, "http_requests_total{route=\"/api/\",method=\"GET\",status=\"200\"}") ?? 0
                #expect(proxied >= 21)
            }
        }
    }

    @Test(arguments: [TLSVersion.tlsv12, .tlsv13])
    func tlsOnTheCoreServesHTTP11WithHSTSAndTheEdgesOwnAnswers(_ version: TLSVersion) async throws {
        try await withTLSEdge({ directory, upstream in
            let a = try directory.makeCertificate("a.test")
            let https = TLSTestConfig.https(certificates: [a.config(serverNames: ["a.test"])], http2: false)
            return try TLSTestConfig.make(upstream: upstream, listeners: [https])
        }) { edge, _, _ in
            let hsts = try #require(edge.config.headers.hsts)
            var options = TLSClientOptions.version(version)
            options.alpn = ["h2", "http/1.1"]
            try await withTLSConnection(port: try edge.port(0), options) { connection in
                #expect(connection.negotiatedProtocol == "http/1.1", "the core offers no h2")
                #expect(try await connection.tlsVersion() == version)
                let proxied = try await connection.request(.GET, "/app/page")
                #expect(proxied.status == 200)
                #expect(proxied.header("strict-transport-security") == hsts)
                #expect(proxied.body.contains("proto=https"), "X-Forwarded-Proto upstream: \(proxied.body)")
                // A body of several TLS records (16 KiB each) goes up whole.
                let upload = try await connection.request(.POST, "/app/upload", body: String(repeating: "x", count: 100_000))
                #expect(upload.status == 200)
                let missing = try await connection.request(.GET, "/nowhere")
                #expect(missing.status == 404)
                #expect(missing.header("strict-transport-security") == hsts)
                #expect(missing.body.contains("RESOURCE_NOT_FOUND"))
                let limited = try await connection.request(.GET, "/limited/a")
                #expect(limited.status == 200)
                #expect(try await connection.request(.GET, "/limited/b").status == 429)
            }
        }
    }

    @Test func theCoreAcceptsEveryRouteFeatureAndRefusesAnUnknownIO() throws {
        let text = """
            listeners:
              - {name: public, address: "127.0.0.1:0", io: core}
            upstreams:
              app: {servers: ["127.0.0.1:9"]}
            limits:
              zones: {slow: {rate: 1r/s}}
            routes:
              - {prefix: /static/, static: {root: /tmp}}
              - {prefix: /, proxy: app, compress: true, rate_limit: {zone: slow, burst: 5, delay: 2}}
            """
        // Compression, static files and delays over HTTP/1.x are carried out on the core.
        let accepted = try ConfigLoader.parse(yaml: text, source: "core.yaml", environment: [:])
        #expect(accepted.routes.map(\.compress) == [false, true])
        let directory = try TLSTestDirectory()
        defer { directory.remove() }
        let certificate = try directory.makeCertificate("a.test")
        func tls(http2: Bool, delay: Bool = false) -> String {
            """
            listeners:
              - name: public
                address: "127.0.0.1:0"
                io: core
                tls: {http2: \(http2), certificates: [{certificate: "\(certificate.certificatePath)", key: "\(certificate.keyPath)"}]}
            upstreams:
              app: {servers: ["127.0.0.1:9"]}
            limits:
              zones: {slow: {rate: 1r/s}}
            routes:
              - {prefix: /static/, static: {root: /tmp}}
              - {prefix: /, proxy: app, rate_limit: {zone: slow, burst: 5\(delay ? ", delay: 2" : ", nodelay: true")}}
            """
        }
        // HTTP/2, static files and delays (over HTTP/1.x and HTTP/2) are served on the core.
        #expect(try ConfigLoader.parse(yaml: tls(http2: true), source: "tls.yaml", environment: [:]).listeners.first?.tls?.http2 == true)
        #expect(try ConfigLoader.parse(yaml: tls(http2: false, delay: true), source: "tls.yaml", environment: [:]).routes.count == 2)
        #expect(try ConfigLoader.parse(yaml: tls(http2: true, delay: true), source: "tls.yaml", environment: [:]).routes.count == 2)
        #expect(throws: ConfigError.self) {
            try ConfigLoader.parse(
                yaml: "listeners: [{address: \"127.0.0.1:0\", io: epoll}]\nroutes: []\n", source: "x.yaml", environment: [:])
        }
    }

    /// A listener on a Unix-domain socket (a local proxy or a container's sidecar in front):
    /// served on both shells alike; the peer has no IP address, so the forwarded fields name
    /// none and limits count every such client as one.
    @Test
    func aUnixSocketListenerServesRequests() async throws {
        let path = "/tmp/edge-test-\(UInt32.random(in: 0...UInt32.max)).sock"
        defer { unlink(path) }
        try await withUpstreams(["a"]) { upstreams in
            var config = try EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)]).config()
            config.listeners = [ListenerConfig(name: "unix", address: .unix(path: path))]
            let server = try await EdgeServer.start(config: config)
            let served = Result {
                for _ in 0..<3 {  // a connection per loop, and more
                    let connection = try RawHTTPConnection(unixPath: path)
                    defer { connection.close() }
                    for request in 0..<2 {
                        let response = try connection.request("GET", "/echo?n=\(request)")
                        #expect(response.status == 200)
                        #expect(response.text.contains("/echo?n=\(request)"), "\(response.text)")
                    }
                }
            }
            await server.shutdown(grace: .seconds(1))
            try served.get()
        }
        #expect(access(path, F_OK) != 0, "the socket file is removed on shutdown")
    }
}
