import Testing

@testable import Edge

/// RFC 9112 §3.2: a request's `Host` decides which site it is for, so the edge refuses the
/// ambiguous ones before routing or forwarding anything, as nginx does.
@Suite("Request host")
struct RequestHostTests {
    @Test(arguments: [
        // target, Host lines, requires Host (HTTP/1.1), verdict
        ("/a", ["a.example"], true, RequestHost.Verdict.valid(originFormTarget: nil)),
        ("/a", ["a.example:8443"], true, .valid(originFormTarget: nil)),
        ("/a", ["[::1]:8080"], true, .valid(originFormTarget: nil)),
        ("/a", ["127.0.0.1"], true, .valid(originFormTarget: nil)),
        ("/a", [], false, .valid(originFormTarget: nil)),
        ("/a", [""], true, .valid(originFormTarget: nil)),
        ("/a", [], true, .invalid("an HTTP/1.1 request needs a Host header")),
        ("/a", ["a.example", "b.example"], true, .invalid("the request has more than one Host header")),
        ("/a", ["a.example", "a.example"], false, .invalid("the request has more than one Host header")),
        ("/a", ["a.example, b.example"], true, .invalid("the Host header is not a host name with an optional port")),
        ("/a", ["a.example/x"], true, .invalid("the Host header is not a host name with an optional port")),
        ("/a", ["a.example:80x"], true, .invalid("the Host header is not a host name with an optional port")),
        ("/a", ["user@a.example"], true, .invalid("the Host header is not a host name with an optional port")),
        ("/a", ["[::1]"], true, .valid(originFormTarget: nil)),
        ("/a", ["a.example:65535"], true, .valid(originFormTarget: nil)),
        ("/a", ["a.example:123456"], true, .invalid("the Host header is not a host name with an optional port")),
        ("/a", ["[]"], true, .invalid("the Host header is not a host name with an optional port")),
        ("/a", ["[::1"], true, .invalid("the Host header is not a host name with an optional port")),
        ("/a", ["[::1]x"], true, .invalid("the Host header is not a host name with an optional port")),
        ("/a", ["[::g]"], true, .invalid("the Host header is not a host name with an optional port")),
        ("/a", ["[::1]:8o"], true, .invalid("the Host header is not a host name with an optional port")),
        ("http://a.example/abs?q=1", ["a.example"], true, .valid(originFormTarget: "/abs?q=1")),
        ("http://A.Example:80/abs", ["a.example"], true, .valid(originFormTarget: "/abs")),
        ("https://a.example", ["a.example:443"], true, .valid(originFormTarget: "/")),
        ("http://a.example?q", ["a.example"], true, .valid(originFormTarget: "/?q")),
        ("http://a.example/abs", ["b.example"], true, .invalid("the Host header does not match the host in the request target")),
        ("http://a.example:8080/abs", ["a.example"], true, .invalid("the Host header does not match the host in the request target")),
        ("http://a.example/abs", [], true, .invalid("an HTTP/1.1 request needs a Host header")),
        ("http://a.example/abs", [], false, .valid(originFormTarget: "/abs")),
        ("http://u@a.example/abs", ["a.example"], true, .invalid("the request target's authority is not a host name with an optional port")),
        ("http:///abs", [""], true, .invalid("the request target's authority is not a host name with an optional port")),
    ])
    func hostRulesDecideEachCase(target: String, hosts: [String], requiresHost: Bool, verdict: RequestHost.Verdict) {
        #expect(RequestHost.check(target: target, host: hosts.first, hostCount: hosts.count, requiresHost: requiresHost) == verdict)
    }
}

/// The same rules on the wire: refused requests get 400 and never reach the upstream.
@Suite("Request host on loopback", .serialized)
struct RequestHostIntegrationTests {
    @Test func requestsWithoutOrWithSeveralOrMismatchedHostsGet400AndAreNotForwarded() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let refused = [
                    "GET /echo HTTP/1.1\r\n\r\n",
                    "GET /echo HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n",
                    "GET /echo HTTP/1.0\r\nHost: a.example\r\nHost: b.example\r\n\r\n",
                    "GET http://a.example/echo HTTP/1.1\r\nHost: b.example\r\n\r\n",
                    "GET /echo HTTP/1.1\r\nHost: a.example, b.example\r\n\r\n",
                ]
                for request in refused {
                    let connection = try edge.connect()
                    defer { connection.close() }
                    try connection.send(request)
                    let response = try connection.readResponse()
                    #expect(response.status == 400, "\(request.debugDescription)")
                    ProxyIntegrationTests.expectDecorated(response)
                }
                #expect(upstreams[0].requestCount == 0, "none of them reached the upstream")

                // HTTP/1.0 without Host is fine; an absolute-form target that agrees with Host
                // goes upstream in origin form.
                let old = try edge.connect()
                defer { old.close() }
                try old.send("GET /echo HTTP/1.0\r\n\r\n")
                #expect(try old.readResponse().status == 200)
                let absolute = try edge.connect()
                defer { absolute.close() }
                try absolute.send("GET http://a.example/echo?x=1 HTTP/1.1\r\nHost: a.example\r\n\r\n")
                let response = try absolute.readResponse()
                #expect(response.status == 200)
                let echo = try response.echo()
                #expect(echo.uri == "/echo?x=1")
                #expect(echo.values("Host") == ["a.example"])
            }
        }
    }

    @Test func theRedirectListenerKeepsPathAndQueryOfAnAbsoluteFormRequest() async throws {
        var config = try EdgeYAML().config()
        config.listeners = [
            ListenerConfig(
                name: "redirect", address: .tcp(host: "127.0.0.1", port: 0),
                httpsRedirect: HTTPSRedirectConfig(primaryName: "a.example", httpsPort: 443))
        ]
        try await withEdge(config: config) { edge in
            let connection = try edge.connect()
            defer { connection.close() }
            try connection.send("GET http://a.example/abs?q=1 HTTP/1.1\r\nHost: a.example\r\n\r\n")
            let response = try connection.readResponse()
            #expect(response.status == 301)
            #expect(response.header("Location") == "https://a.example/abs?q=1")
        }
    }
}
