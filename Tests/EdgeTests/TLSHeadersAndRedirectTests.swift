import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import Edge

/// HSTS on HTTPS only, the port-80 style redirect listener, and its ACME webroot.
@Suite("TLS headers, HTTPS redirect and ACME webroot on loopback")
struct TLSHeadersAndRedirectTests {
    /// Every configured security header, once, with its value.
    static func expectSecurityHeaders(
        _ response: TLSTestResponse, _ config: EdgeConfig, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(!config.headers.add.isEmpty, "the test configuration has security headers", sourceLocation: sourceLocation)
        for (name, value) in config.headers.add {
            #expect(response.values(name) == [value], "\(name) on \(what)", sourceLocation: sourceLocation)
        }
    }

    // MARK: HSTS

    @Test func hstsIsOnEveryHttpsResponseIncludingTheEdgesOwnAndNeverOverPlainHttp() async throws {
        try await withTLSEdge({ directory, upstream in
            let a = try directory.makeCertificate("a.test")
            return try TLSTestConfig.make(
                upstream: upstream,
                listeners: [TLSTestConfig.https(certificates: [a.config(serverNames: ["a.test"])]), TLSTestConfig.plain()])
        }) { edge, _, _ in
            let hsts = try #require(edge.config.headers.hsts, "HSTS is on by default")
            let https = try edge.port(0)
            let plain = try edge.port(1)

            var http1 = TLSClientOptions()
            http1.alpn = ["http/1.1"]
            var h2 = TLSClientOptions()
            h2.alpn = ["h2"]
            for options in [http1, h2] {
                let protocolName = options.alpn[0]
                try await withTLSConnection(port: https, options) { connection in
                    let proxied = try await connection.request(.GET, "/app/page")
                    let notFound = try await connection.request(.GET, "/no-such-route")
                    let forbidden = try await connection.request(.GET, "/.git/config")
                    let responses = [(proxied, 200, "a proxied response"), (notFound, 404, "the edge's 404"), (forbidden, 403, "the edge's 403")]
                    for (response, status, what) in responses {
                        #expect(response.status == status, "\(what) over \(protocolName)")
                        #expect(response.values("Strict-Transport-Security") == [hsts], "HSTS on \(what) over \(protocolName)")
                        Self.expectSecurityHeaders(response, edge.config, "\(what) over \(protocolName)")
                    }
                }
            }
            // The rate-limited route takes one request a minute: the second is the edge's 429.
            try await withTLSConnection(port: https, http1) { connection in
                let first = try await connection.request(.GET, "/limited/one")
                #expect(first.status == 200)
                let limited = try await connection.request(.GET, "/limited/two")
                #expect(limited.status == 429)
                #expect(limited.values("Strict-Transport-Security") == [hsts], "HSTS on the edge's 429")
                Self.expectSecurityHeaders(limited, edge.config, "the edge's 429")
            }

            // Plain HTTP: the same responses, without HSTS (browsers ignore it there, and it would be a lie).
            try await withTLSConnection(port: plain, nil) { connection in
                let proxied = try await connection.request(.GET, "/app/page")
                let notFound = try await connection.request(.GET, "/no-such-route")
                let limited = try await connection.request(.GET, "/limited/three")  // the client is still over the limit
                let responses = [(proxied, 200, "a proxied response"), (notFound, 404, "the edge's 404"), (limited, 429, "the edge's 429")]
                for (response, status, what) in responses {
                    #expect(response.status == status, "\(what) over plain HTTP")
                    #expect(response.header("Strict-Transport-Security") == nil, "no HSTS on \(what) over plain HTTP")
                    Self.expectSecurityHeaders(response, edge.config, "\(what) over plain HTTP")
                }
                #expect(proxied.body == TLSTestUpstream.body(name: "app", forwardedProto: "http", uri: "/app/page"))
            }
        }
    }

    // MARK: HTTPS redirect

    @Test func redirectListenerSends301ForGetAnd308OtherwiseToAConfiguredNameOnly() async throws {
        try await withTLSEdge({ _, upstream in
            try TLSTestConfig.make(
                upstream: upstream,
                listeners: [
                    ListenerConfig(
                        name: "redirect-8443", address: .tcp(host: "127.0.0.1", port: 0),
                        httpsRedirect: HTTPSRedirectConfig(primaryName: "a.test", serverNames: ["b.test"], httpsPort: 8443)),
                    ListenerConfig(
                        name: "redirect-443", address: .tcp(host: "127.0.0.1", port: 0),
                        httpsRedirect: HTTPSRedirectConfig(primaryName: "a.test", serverNames: ["b.test"], httpsPort: 443)),
                    ListenerConfig(
                        name: "redirect-default", address: .tcp(host: "127.0.0.1", port: 0),
                        httpsRedirect: HTTPSRedirectConfig(primaryName: "a.test", serverNames: ["b.test"])),
                ])
        }) { edge, _, _ in
            let withPort = try edge.port(0)
            let cases: [(method: HTTPMethod, uri: String, host: String, status: Int, location: String)] = [
                (.GET, "/path/page?q=1&r=two", "b.test", 301, "https://b.test:8443/path/page?q=1&r=two"),
                (.GET, "/", "a.test", 301, "https://a.test:8443/"),
                (.HEAD, "/head", "b.test", 301, "https://b.test:8443/head"),
                (.GET, "/ported", "B.Test:80", 301, "https://b.test:8443/ported"),
                (.GET, "/x?y=z", "evil.example", 301, "https://a.test:8443/x?y=z"),
                (.GET, "/x", "evil.example:8443", 301, "https://a.test:8443/x"),
                (.GET, "/x", "b.test.evil.example", 301, "https://a.test:8443/x"),
                (.GET, "//evil.example/x", "evil.example", 301, "https://a.test:8443//evil.example/x"),
                (.POST, "/form?id=3", "b.test", 308, "https://b.test:8443/form?id=3"),
                (.PUT, "/put", "evil.example", 308, "https://a.test:8443/put"),
                (.DELETE, "/delete", "a.test", 308, "https://a.test:8443/delete"),
            ]
            // Not a host at all (userinfo): refused with 400 before any redirect (RFC 9112 §3.2).
            let userinfo = try await tlsRequest(port: withPort, nil, .GET, "/x", host: "b.test@evil.example")
            #expect(userinfo.status == 400)
            #expect(userinfo.values("Location").isEmpty)
            for (method, uri, host, status, location) in cases {
                let body: String? = method == .POST || method == .PUT ? "field=value" : nil
                let response = try await tlsRequest(port: withPort, nil, method, uri, host: host, body: body)
                let what = "\(method) \(uri) Host: \(host)"
                #expect(response.status == status, "\(what)")
                #expect(response.values("Location") == [location], "\(what)")
                #expect(response.header("Strict-Transport-Security") == nil, "no HSTS on a plain-HTTP redirect (\(what))")
                Self.expectSecurityHeaders(response, edge.config, "the redirect for \(what)")
            }

            // Port 443 (given or implied) is left out of the URL.
            for index in [1, 2] {
                let response = try await tlsRequest(port: try edge.port(index), nil, .GET, "/p?q", host: "evil.example")
                #expect(response.status == 301)
                #expect(response.values("Location") == ["https://a.test/p?q"], "listener \(index)")
                let kept = try await tlsRequest(port: try edge.port(index), nil, .POST, "/p", host: "b.test", body: "x")
                #expect(kept.status == 308)
                #expect(kept.values("Location") == ["https://b.test/p"], "listener \(index)")
            }
        }
    }

    // MARK: ACME webroot

    @Test func acmeChallengesAreServedFromTheWebrootAndTraversalNeverLeavesIt() async throws {
        try await withTLSEdge({ directory, upstream in
            let webroot = directory.path + "/webroot"
            try directory.write("acme-proof-123", to: "webroot/.well-known/acme-challenge/token-123")
            try directory.write("SECRET-IN-WELL-KNOWN", to: "webroot/.well-known/secret")
            try directory.write("SECRET-IN-WEBROOT", to: "webroot/secret")
            try directory.write("SECRET-OUTSIDE", to: "outside")
            try FileManager.default.createSymbolicLink(
                atPath: webroot + "/.well-known/acme-challenge/link", withDestinationPath: directory.path + "/outside")
            return try TLSTestConfig.make(
                upstream: upstream,
                listeners: [
                    ListenerConfig(
                        name: "redirect", address: .tcp(host: "127.0.0.1", port: 0),
                        httpsRedirect: HTTPSRedirectConfig(primaryName: "a.test", acmeWebroot: webroot))
                ])
        }) { edge, _, _ in
            let port = try edge.port()
            let token = try await tlsRequest(port: port, nil, .GET, "/.well-known/acme-challenge/token-123", host: "evil.example")
            #expect(token.status == 200)
            #expect(token.body == "acme-proof-123")
            #expect(token.header("Location") == nil)
            #expect(token.header("Strict-Transport-Security") == nil)

            let missing = try await tlsRequest(port: port, nil, .GET, "/.well-known/acme-challenge/no-such-token")
            #expect(missing.status == 404)

            let attempts = [
                "/.well-known/acme-challenge/../secret",
                "/.well-known/acme-challenge/../../secret",
                "/.well-known/acme-challenge/../../../outside",
                "/.well-known/acme-challenge/%2e%2e/secret",
                "/.well-known/acme-challenge/%2E%2E/%2E%2E/secret",
                "/.well-known/acme-challenge/.%2e/secret",
                "/.well-known/acme-challenge/..%2fsecret",
                "/.well-known/acme-challenge/%2e%2e%2f%2e%2e%2fsecret",
                "/.well-known/acme-challenge/..%2f..%2f..%2foutside",
                "/.well-known/acme-challenge/%252e%252e/secret",
                "/.well-known/acme-challenge/..%5csecret",
                "/.well-known/acme-challenge/..\\secret",
                "/.well-known/acme-challenge/token-123/../../secret",
                "/.well-known/acme-challenge//../secret",
                "/.well-known/acme-challenge/link",
                "/.well-known/acme-challenge/%00/../secret",
            ]
            for uri in attempts {
                // Raw bytes: no client library normalises or refuses the target first.
                let response = try await tlsRawExchange(
                    port: port, "GET \(uri) HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
                let status = tlsRawStatus(response)
                #expect(status == 403 || status == 404, "\(uri) answered \(status.map(String.init) ?? "nothing")")
                #expect(!response.contains("SECRET"), "\(uri) served a file outside the challenge directory")
            }
        }
    }
}
