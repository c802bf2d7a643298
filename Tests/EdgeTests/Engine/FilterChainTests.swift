import Limits
import Testing

@testable import Edge

/// A request head as a test writes it: the engine reads heads through ``RequestHeadFields``,
/// so no HTTP codec is involved.
struct TestHead: RequestHeadFields {
    var methodName = "GET"
    var target: String
    var isHTTP11OrLater = true
    var headers: [(String, String)] = [("Host", "example.org")]

    func first(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
    func contains(_ name: String) -> Bool { first(name) != nil }
    func values(_ name: String) -> [String] { headers.filter { $0.0.lowercased() == name }.map(\.1) }
    func forEachValue(_ name: String, _ body: (String) -> Void) { values(name).forEach(body) }
}

/// The filter chain's order, one row per filter that can answer, with a manual time.
@Suite struct FilterChainTests {
    static let yaml = """
        listeners: [{name: http, address: 127.0.0.1:8080}]
        trusted_proxies: [10.0.0.0/8]
        limits:
          max_body_size: 1k
          zones: {api: {rate: 1r/s, capacity: 100}}
        upstreams: {backend: {servers: [127.0.0.1:9000]}}
        routes:
          - {prefix: /api/, proxy: backend, rate_limit: {zone: api, burst: 1, delay: 1}}
          - {prefix: /files/, static: {root: /tmp}}
          - {prefix: /fixed, respond: {status: 418, body: "tea", content_type: text/plain}}
          - {prefix: /old/, redirect: {location: "https://new.example/", status: 301, append_path: true}}
          - {prefix: /quiet, proxy: backend, access_log: false}
        """

    let runtime: EdgeRuntime
    var random = SplitMix64(seed: 1)
    let now = Instant(nanoseconds: 1_000_000_000_000)

    init() throws {
        let config = try ConfigLoader.parse(yaml: Self.yaml, source: "test.yaml", environment: [:])
        runtime = try EdgeRuntime(config: config, generation: 1, zones: ZoneRegistry(hashSeed: 0, shardCount: 1))
    }

    func connection(peer: String = "192.0.2.7", overLimit: Bool = false, h2: Bool = false) -> FilterChain.Connection {
        let key = ClientKey(parsing: peer)!
        return FilterChain.Connection(
            peer: key, peerTrusted: ClientAddress.isTrusted(key, runtime.config.trustedProxies), isHTTP2Stream: h2,
            overConnectionLimit: overLimit, httpsRedirect: nil)
    }

    mutating func decide(_ head: TestHead, _ on: FilterChain.Connection? = nil, limiter: ConnectionLimiter? = nil, at: Instant? = nil)
        -> RequestVerdict
    {
        FilterChain.decide(head, on: on ?? connection(), runtime: runtime, connectionLimiter: limiter, now: at ?? now, random: &random)
    }

    func route(_ prefix: String) -> CompiledRoute { runtime.router.route(for: Substring(prefix))! }

    @Test mutating func eachFilterAnswersInOrder() throws {
        let api = route("/api/")
        let cases: [(String, TestHead, FilterChain.Connection?, RequestDecision)] = [
            ("connection over its cap, even with a bad Host", TestHead(target: "/api/x", headers: []), connection(overLimit: true),
             .answer(.connectionLimited, route: nil, close: true)),
            ("HTTP/1.1 without Host", TestHead(target: "/api/x", headers: []), nil,
             .answer(.badRequest("an HTTP/1.1 request needs a Host header"), route: nil, close: true)),
            ("HTTP/1.0 without Host is fine", TestHead(target: "/api/x", isHTTP11OrLater: false, headers: []), nil,
             .proxy(api, api.cluster!, delay: .zero)),
            ("HTTP/2 needs no Host", TestHead(target: "/api/x", headers: []), connection(h2: true),
             .proxy(api, api.cluster!, delay: .zero)),
            ("two Hosts", TestHead(target: "/api/x", headers: [("Host", "a"), ("Host", "b")]), nil,
             .answer(.badRequest("the request has more than one Host header"), route: nil, close: true)),
            ("dot-file before the body size", TestHead(target: "/.git/config", headers: [("Host", "a"), ("Content-Length", "99999")]), nil,
             .answer(.forbidden, route: nil, close: false)),
            ("declared body over the limit", TestHead(target: "/api/x", headers: [("Host", "a"), ("Content-Length", "1025")]), nil,
             .answer(.payloadTooLarge, route: nil, close: true)),
            ("no route", TestHead(target: "/nowhere"), nil, .answer(.notFound, route: nil, close: false)),
            ("fixed answer", TestHead(target: "/fixed"), nil,
             .answer(.respond(status: 418, body: "tea", contentType: "text/plain"), route: route("/fixed"), close: false)),
            ("redirect keeps the rest of the path", TestHead(target: "/old/a/b?q=1"), nil,
             .answer(.redirect(location: "https://new.example/a/b?q=1", status: 301), route: route("/old/"), close: false)),
            ("static GET", TestHead(target: "/files/a/b.txt"), nil,
             .serveStatic(StaticConfig(root: "/tmp"), relative: "a/b.txt", route: route("/files/"))),
            ("static POST", TestHead(methodName: "POST", target: "/files/a"), nil,
             .answer(.methodNotAllowed(allow: "GET, HEAD", message: "only GET and HEAD are served here"), route: route("/files/"), close: false)),
            ("static escape", TestHead(target: "/files/%2e%2e/etc/passwd"), nil,
             .answer(.forbidden, route: nil, close: false)),
        ]
        for (name, head, on, expected) in cases {
            let verdict = decide(head, on)
            #expect(verdict.decision == expected, "\(name)")
        }
    }

    @Test mutating func absoluteFormIsRoutedByItsPath() {
        let verdict = decide(TestHead(target: "http://example.org/api/x?y", headers: [("Host", "example.org")]))
        #expect(verdict.originFormTarget == "/api/x?y")
        #expect(verdict.routeLabel == "/api/")
    }

    @Test mutating func rateLimitPassesDelaysThenRejectsWithTheExactWait() {
        let head = TestHead(target: "/api/x")
        let api = route("/api/")
        let first = decide(head)
        #expect(first.decision == .proxy(api, api.cluster!, delay: .zero))
        #expect(first.limitOutcome == "passed")
        // burst 1 with delay 1: the second request within the second is within the burst's free part.
        let second = decide(head)
        #expect(second.limitOutcome == "passed" || second.limitOutcome == "delayed")
        let third = decide(head)
        guard case .answer(.rateLimited(let wait), let route, false) = third.decision else {
            Issue.record("expected a rate-limit answer, got \(third.decision)")
            return
        }
        #expect(route === api)
        #expect(wait > .zero && wait <= .seconds(2))
        #expect(third.refusedBy == .rateLimit(zone: "api"))
        #expect(third.limitOutcome == "rejected:api")
        // The same client after the bucket drained (manual time, no sleep).
        let later = decide(head, at: now.advanced(by: .seconds(3)))
        #expect(later.limitOutcome == "passed")
    }

    @Test mutating func trustedProxyNamesTheClientAndItsRequestID() throws {
        let proxy = connection(peer: "10.1.2.3")
        let head = TestHead(
            target: "/quiet", headers: [("Host", "a"), ("X-Forwarded-For", "198.51.100.9, 10.0.0.5"), ("X-Request-ID", "abc-123")])
        let verdict = decide(head, proxy)
        #expect(verdict.client == ClientKey(parsing: "198.51.100.9"))
        #expect(verdict.requestID == .given("abc-123"))
        #expect(verdict.logged == false)
        // From an untrusted peer both headers are ignored.
        let direct = decide(head)
        #expect(direct.client == ClientKey(parsing: "192.0.2.7"))
        #expect(direct.requestID != .given("abc-123"))
    }

    @Test mutating func trustedProxyCapsRequestsInFlightPerRealClient() throws {
        let limiter = try ConnectionLimiter(limit: 1, capacity: 16)
        let proxy = connection(peer: "10.1.2.3")
        let head = TestHead(target: "/quiet", headers: [("Host", "a"), ("X-Forwarded-For", "198.51.100.9")])
        let first = decide(head, proxy, limiter: limiter)
        #expect(first.requestLease != nil)
        let second = decide(head, proxy, limiter: limiter)
        #expect(second.decision == .answer(.connectionLimited, route: nil, close: false))
        #expect(second.refusedBy == .connectionLimit)
        first.requestLease?.release()
        let third = decide(head, proxy, limiter: limiter)
        #expect(third.requestLease != nil)
    }

    @Test mutating func bodyIsSeenFromEitherFraming() {
        #expect(decide(TestHead(target: "/api/x", headers: [("Host", "a"), ("Transfer-Encoding", "chunked")])).hasBody)
        #expect(decide(TestHead(target: "/api/x", headers: [("Host", "a"), ("Content-Length", "3")])).hasBody)
        #expect(!decide(TestHead(target: "/api/x", headers: [("Host", "a"), ("Content-Length", "0")])).hasBody)
    }
}
