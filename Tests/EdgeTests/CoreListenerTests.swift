import Foundation
import NIOSSL
import Testing

@testable import Edge

/// An `io: core` listener beside the usual one, in one edge, one configuration: the same raw
/// request to each must get the same answer (status, fields, body, the request ID aside) and
/// reach the upstream the same way. The engine decides both (issue 12); these tests hold the
/// I/O core's shell (issue 13) to what the NIO shell does.
@Suite("io: core listener")
struct CoreListenerTests {
    /// The listeners' ports: NIO's first, then the core's.
    struct Ports {
        var nio: Int
        var core: Int
    }

    static func withBothShells(
        _ yaml: EdgeYAML, _ body: (Ports, EdgeUnderTest) async throws -> Void
    ) async throws {
        var config = try yaml.config()
        config.listeners.append(ListenerConfig(name: "core", address: .tcp(host: "127.0.0.1", port: 0), io: .core))
        try await withEdge(config: config) { edge in
            let addresses = edge.server.listenerAddresses
            guard addresses.count == 2, let nio = addresses[0].port, let core = addresses[1].port else {
                throw TestFailure("expected two listeners, got \(addresses)")
            }
            try await body(Ports(nio: nio, core: core), edge)
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

    /// A response as compared across the shells: the request ID's value (random) and `Date`
    /// left out; the ID is checked to be there and to be the one in an error body.
    struct Comparable: Equatable, CustomStringConvertible {
        var status: Int
        var fields: [String]
        var body: String

        init(_ response: RawResponse) throws {
            status = response.status
            let requestID = response.header("x-request-id") ?? ""
            guard requestID.count == 32 else { throw TestFailure("no request ID: \(response.headers)") }
            fields = response.headers.filter { !["date", "x-request-id"].contains($0.name.lowercased()) }
                .map { "\($0.name.lowercased()): \($0.value)" }.sorted()
            body = response.text.replacingOccurrences(of: requestID, with: "<id>")
        }

        var description: String { "\(status) \(fields) \(body.prefix(200))" }
    }

    /// Sends `request` (raw bytes) to both listeners on new connections, returns both answers.
    static func both(_ request: String, _ ports: Ports, isHead: Bool = false) async throws -> (RawResponse, RawResponse) {
        try await offThePool {
            func send(_ port: Int) throws -> RawResponse {
                let connection = try RawHTTPConnection(port: port)
                defer { connection.close() }
                try connection.send(request)
                return try connection.readResponse(isHead: isHead)
            }
            return (try send(ports.nio), try send(ports.core))
        }
    }

    @Test(arguments: [
        "GET /api/x HTTP/1.1\r\nHost: edge.test\r\n\r\n",
        "GET /api/x HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\n\r\n",
        "GET /api/x HTTP/1.0\r\nHost: edge.test\r\n\r\n",
        "HEAD /api/x HTTP/1.1\r\nHost: edge.test\r\n\r\n",
        "GET /csp HTTP/1.1\r\nHost: edge.test\r\n\r\n",
        "GET /status/503 HTTP/1.1\r\nHost: edge.test\r\n\r\n",
        "GET /chunked?bytes=3000 HTTP/1.1\r\nHost: edge.test\r\n\r\n",
        "GET /nowhere HTTP/1.1\r\nHost: edge.test\r\n\r\n",
        "HEAD /nowhere HTTP/1.1\r\nHost: edge.test\r\n\r\n",
        "GET /fixed HTTP/1.1\r\nHost: edge.test\r\n\r\n",
        "GET /moved HTTP/1.1\r\nHost: edge.test\r\n\r\n",
        "GET /.git/config HTTP/1.1\r\nHost: edge.test\r\n\r\n",
        "GET /api/x HTTP/1.1\r\n\r\n",
        "GET /api/x HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n",
        "POST /api/x HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 20000000\r\n\r\n",
        "POST /nowhere HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 3\r\n\r\nabc",
    ])
    func theSameRequestGetsTheSameAnswerFromBothShells(_ request: String) async throws {
        try await withUpstreams(["u"]) { upstreams in
            try await Self.withBothShells(Self.yaml(upstream: upstreams[0])) { ports, _ in
                let (nio, core) = try await Self.both(request, ports, isHead: request.hasPrefix("HEAD"))
                let expected = try Comparable(nio)
                let actual = try Comparable(core)
                #expect(actual == expected, "request \(request.debugDescription)")
            }
        }
    }

    @Test(arguments: [
        // plain, with forwarding claims an untrusted peer may not make, and a field its
        // Connection header names
        "GET /echo?q=1 HTTP/1.1\r\nHost: edge.test\r\nX-Forwarded-For: 6.6.6.6\r\nX-Real-IP: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nForwarded: for=6.6.6.6\r\nX-Request-ID: forged\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nProxy-Authorization: Basic eA==\r\nAccept: */*\r\n\r\n",
        // HTTP/1.0 and an absolute-form target: HTTP/1.1 in origin form upstream
        "GET http://edge.test/echo?abs=1 HTTP/1.0\r\nHost: edge.test\r\n\r\n",
        // bodies: sized and chunked
        "POST /echo HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 5\r\n\r\nhello",
        "POST /echo HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ])
    func theUpstreamSeesTheSameRequestFromBothShells(_ request: String) async throws {
        try await withUpstreams(["u"]) { upstreams in
            try await Self.withBothShells(Self.yaml(upstream: upstreams[0])) { ports, _ in
                let (nio, core) = try await Self.both(request, ports)
                let actual = try Comparable(core)
                let expected = try Comparable(nio).replacingEcho(with: actual)
                #expect(actual == expected, "request \(request.debugDescription)")
                func seen(_ response: RawResponse) throws -> [String] {
                    let echo = try response.echo()
                    let requestID = response.header("x-request-id") ?? "?"
                    #expect(echo.header("x-request-id") == requestID)
                    return ["\(echo.method) \(echo.uri) body \(echo.bodyLength)"]
                        + echo.headers.filter { $0[0].lowercased() != "x-request-id" }.map { "\($0[0].lowercased()): \($0[1])" }
                        .sorted()
                }
                let upstreamSawCore = try seen(core)
                let upstreamSawNIO = try seen(nio)
                #expect(upstreamSawCore == upstreamSawNIO, "request \(request.debugDescription)")
            }
        }
    }

    @Test func aRateLimitAnswers429WithRetryAfterOnTheCore() async throws {
        try await withUpstreams(["u"]) { upstreams in
            var yaml = Self.yaml(upstream: upstreams[0])
            yaml.limits = "{zones: {tight: {rate: 1r/m}}}"
            yaml.routes = ["{prefix: /, proxy: app, rate_limit: {zone: tight, burst: 1, nodelay: true}}"]
            try await Self.withBothShells(yaml) { ports, _ in
                try await offThePool {
                    let connection = try RawHTTPConnection(port: ports.core)
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
            try await Self.withBothShells(yaml) { ports, edge in
                try await offThePool {
                    let first = try RawHTTPConnection(port: ports.core)
                    let second = try RawHTTPConnection(port: ports.nio)
                    defer {
                        first.close()
                        second.close()
                    }
                    #expect(try first.request("GET", "/api/x").status == 200)
                    #expect(try second.request("GET", "/api/x").status == 200)
                    let third = try RawHTTPConnection(port: ports.core)
                    defer { third.close() }
                    let refused = try third.request("GET", "/api/x")
                    #expect(refused.status == 503)
                    #expect(refused.header("connection") == "close")
                }
                // Closing one frees its slot, on either shell.
                try await eventually("a slot frees") {
                    let connection = try RawHTTPConnection(port: ports.core)
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
            try await Self.withBothShells(Self.yaml(upstream: upstreams[0])) { ports, edge in
                try await offThePool {
                    let connection = try RawHTTPConnection(port: ports.core)
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
            var https = TLSTestConfig.https(certificates: [a.config(serverNames: ["a.test"])], http2: false)
            https.io = .core
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
    @Test(arguments: ListenerIO.allCases)
    func aUnixSocketListenerServesRequests(io: ListenerIO) async throws {
        let path = "/tmp/edge-test-\(UInt32.random(in: 0...UInt32.max)).sock"
        defer { unlink(path) }
        try await withUpstreams(["a"]) { upstreams in
            var config = try EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)]).config()
            config.listeners = [ListenerConfig(name: "unix", address: .unix(path: path), io: io)]
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
        #expect(access(path, F_OK) != 0, "the socket file is removed on shutdown (io: \(io))")
    }
}

extension CoreListenerTests.Comparable {
    /// The same, with `other`'s body: an echo body names what the upstream saw, which the test
    /// compares field by field instead (its order may differ).
    func replacingEcho(with other: Self) -> Self {
        var copy = self
        copy.body = other.body
        copy.fields = copy.fields.filter { !$0.hasPrefix("content-length:") } + other.fields.filter { $0.hasPrefix("content-length:") }
        copy.fields.sort()
        return copy
    }
}
