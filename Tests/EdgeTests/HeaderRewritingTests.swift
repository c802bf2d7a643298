import NIOHTTP1
import Testing

@testable import Edge

@Suite("Header rewriting")
struct HeaderRewritingTests {
    static let decorations = ResponseDecorations(headers: HeadersConfig.homerack.add, cacheControl: nil)

    static func request(_ headers: [(String, String)], method: HTTPMethod = .GET, version: HTTPVersion = .http1_1) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: method, uri: "/api/items?page=2", headers: HTTPHeaders(headers))
    }

    static func upstream(
        _ head: HTTPRequestHead, client: String = "198.51.100.7", peer: String = "198.51.100.7", trusted: Bool = false,
        scheme: String = "http", upgrade: String? = nil
    ) -> HTTPRequestHead {
        HeaderRewriting.upstreamRequestHead(
            head, clientAddress: client, peerAddress: peer, fromTrustedPeer: trusted, scheme: scheme, requestID: "req-1",
            upgrade: upgrade)
    }

    static func response(_ headers: [(String, String)], status: HTTPResponseStatus = .ok) -> HTTPResponseHead {
        HTTPResponseHead(version: .http1_1, status: status, headers: HTTPHeaders(headers))
    }

    // MARK: Requests going up

    @Test func hopByHopHeadersAndThoseNamedInConnectionAreRemoved() {
        let head = Self.upstream(
            Self.request([
                ("Host", "app.example"), ("Connection", "keep-alive, X-Secret, x-other"), ("X-Secret", "1"), ("X-Other", "2"),
                ("Keep-Alive", "timeout=5"), ("Proxy-Connection", "keep-alive"), ("TE", "trailers"), ("Trailer", "X-T"),
                ("Upgrade", "h2c"), ("Proxy-Authorization", "Basic eA=="), ("Proxy-Authenticate", "Basic"),
                ("Authorization", "Bearer t"), ("Accept", "*/*"),
            ]))
        for name in [
            "Connection", "X-Secret", "X-Other", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade",
            "Proxy-Authorization", "Proxy-Authenticate",
        ] {
            #expect(!head.headers.contains(name: name), "\(name) went upstream")
        }
        #expect(head.headers["Authorization"] == ["Bearer t"])
        #expect(head.headers["Accept"] == ["*/*"])
    }

    @Test func hostMethodTargetAreKeptAndVersionIsHTTP11() {
        let head = Self.upstream(Self.request([("Host", "app.example:8443")], method: .PATCH, version: .http1_0))
        #expect(head.headers["Host"] == ["app.example:8443"])
        #expect(head.method == .PATCH)
        #expect(head.uri == "/api/items?page=2")
        #expect(head.version == .http1_1)
    }

    @Test func forwardingHeadersFromAnUntrustedPeerAreReplaced() {
        let head = Self.upstream(
            Self.request([
                ("X-Forwarded-For", "6.6.6.6"), ("X-Real-IP", "6.6.6.6"), ("X-Forwarded-Proto", "https"),
                ("X-Forwarded-Host", "evil.example"), ("Forwarded", "for=6.6.6.6"), ("X-Request-ID", "forged"),
            ]))
        #expect(head.headers["X-Forwarded-For"] == ["198.51.100.7"])
        #expect(head.headers["X-Real-IP"] == ["198.51.100.7"])
        #expect(head.headers["X-Forwarded-Proto"] == ["http"])
        #expect(head.headers["X-Forwarded-Host"].isEmpty)
        #expect(head.headers["Forwarded"].isEmpty)
        #expect(head.headers["X-Request-ID"] == ["req-1"])
    }

    @Test func forwardedForFromATrustedPeerIsAppendedTo() {
        let head = Self.upstream(
            Self.request([("X-Forwarded-For", "203.0.113.1"), ("X-Forwarded-For", "198.51.100.7, 10.0.0.3")]),
            client: "198.51.100.7", peer: "10.0.0.2", trusted: true)
        #expect(head.headers["X-Forwarded-For"] == ["203.0.113.1, 198.51.100.7, 10.0.0.3, 10.0.0.2"])
        #expect(head.headers["X-Real-IP"] == ["198.51.100.7"])
    }

    @Test func forwardedProtoIsSetFromTheSchemeUnlessATrustedPeerSentIt() {
        #expect(Self.upstream(Self.request([]), scheme: "https").headers["X-Forwarded-Proto"] == ["https"])
        let trusted = Self.upstream(Self.request([("X-Forwarded-Proto", "https")]), trusted: true, scheme: "http")
        #expect(trusted.headers["X-Forwarded-Proto"] == ["https"])
        let untrusted = Self.upstream(Self.request([("X-Forwarded-Proto", "https")]), trusted: false, scheme: "http")
        #expect(untrusted.headers["X-Forwarded-Proto"] == ["http"])
    }

    @Test func webSocketUpgradeIsPassedOnWhenAsked() {
        let head = Self.upstream(Self.request([("Connection", "Upgrade"), ("Upgrade", "websocket")]), upgrade: "websocket")
        #expect(head.headers["Upgrade"] == ["websocket"])
        #expect(head.headers["Connection"].map { $0.lowercased() } == ["upgrade"])
    }

    // MARK: Responses coming down

    @Test func serverAndPoweredByAreRemovedCaseInsensitively() {
        let head = HeaderRewriting.clientResponseHead(
            Self.response([("server", "gunicorn/21"), ("X-POWERED-BY", "FastAPI"), ("Content-Type", "text/html")]),
            remove: ["Server", "X-Powered-By"], decorations: Self.decorations, requestID: "req-1", keepAlive: true)
        #expect(!head.headers.contains(name: "Server"))
        #expect(!head.headers.contains(name: "X-Powered-By"))
        #expect(head.headers["Content-Type"] == ["text/html"])
    }

    @Test func securityHeadersReplaceTheUpstreamsOwn() {
        let head = HeaderRewriting.clientResponseHead(
            Self.response([("X-Frame-Options", "ALLOWALL"), ("x-frame-options", "DENY"), ("Referrer-Policy", "unsafe-url")]),
            remove: [], decorations: Self.decorations, requestID: "req-1", keepAlive: true)
        for (name, value) in HeadersConfig.homerack.add {
            #expect(head.headers[name] == [value], "\(name)")
        }
        #expect(head.headers["X-Request-ID"] == ["req-1"])
    }

    @Test func hopByHopResponseHeadersAreRemovedAndKeepAliveIsTheEdges() {
        let upstream = Self.response([
            ("Connection", "keep-alive, X-Hop"), ("X-Hop", "1"), ("Keep-Alive", "timeout=5"), ("Transfer-Encoding", "chunked"),
            ("Content-Type", "text/plain"),
        ])
        let open = HeaderRewriting.clientResponseHead(upstream, remove: [], decorations: Self.decorations, requestID: "r", keepAlive: true)
        #expect(!open.headers.contains(name: "Connection"))
        #expect(!open.headers.contains(name: "X-Hop"))
        #expect(!open.headers.contains(name: "Keep-Alive"))
        #expect(!open.headers.contains(name: "Transfer-Encoding"), "the edge's encoder frames the body itself")
        let closing = HeaderRewriting.clientResponseHead(upstream, remove: [], decorations: Self.decorations, requestID: "r", keepAlive: false)
        #expect(closing.headers["Connection"] == ["close"])
    }

    @Test func routeCacheControlIsForced() {
        let decorations = ResponseDecorations(headers: [], cacheControl: "public, immutable")
        let head = HeaderRewriting.clientResponseHead(
            Self.response([("Cache-Control", "no-cache")]), remove: [], decorations: decorations, requestID: "r", keepAlive: true)
        #expect(head.headers["Cache-Control"] == ["public, immutable"])
    }

    @Test func switchingProtocolsKeepsTheUpgrade() {
        let head = HeaderRewriting.clientResponseHead(
            Self.response([("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Accept", "x")], status: .switchingProtocols),
            remove: [], decorations: Self.decorations, requestID: "r", keepAlive: true)
        #expect(head.headers["Upgrade"] == ["websocket"])
        #expect(head.headers["Connection"].map { $0.lowercased() } == ["upgrade"])
        #expect(head.headers["Sec-WebSocket-Accept"] == ["x"])
    }
}
