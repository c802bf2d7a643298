import Testing

@testable import Edge

/// How request and response bodies are framed on both sides: ambiguous requests (smuggling),
/// bodies on methods that rarely have one, `Expect: 100-continue`, and HTTP/1.0 clients.
extension ProxyIntegrationTests {
    // MARK: Ambiguous requests

    /// Requests a front and a back end could frame differently, or that no server should accept.
    /// Each must be refused with 400 and the connection closed, and nothing of it may reach the upstream.
    static let ambiguousRequests: [String] = [
        // CL.TE: a front end using Content-Length would pass `GET /smuggled` on as a second request.
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n",
        // TE.CL: the same headers in the other order.
        "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGET /smuggled HTTP/1.1\r\n\r\n0\r\n\r\n",
        // Two different lengths.
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 30\r\n\r\nhelloGET /smuggled HTTP/1.1\r\n\r\n",
        // A list of lengths in one header.
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 30\r\n\r\nhelloGET /smuggled HTTP/1.1\r\n\r\n",
        // White space before the colon (RFC 9112 §5.1: must be rejected).
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello",
        // A length that is not a number.
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5x\r\n\r\nhello",
        // A header field far over the decoder's limit (80 KiB).
        "GET /echo HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "b", count: 100 * 1024) + "\r\n\r\n",
    ]

    @Test(arguments: ambiguousRequests)
    func malformedOrAmbiguousRequestIs400AndNeverForwarded(raw: String) async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                try connection.send(raw)
                let response = try connection.readResponse()
                #expect(response.status == 400)
                Self.expectDecorated(response)
                try connection.waitForClose(timeout: .seconds(2))
                // A request after it is answered, so anything forwarded before would be recorded by now.
                let sentinel = try edge.request("GET", "/sentinel")
                #expect(sentinel.status == 200)
                #expect(upstreams[0].requests.map(\.path) == ["/sentinel"])
            }
        }
    }

    @Test func badChunkSizeIs400AndClosesTheConnection() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                try connection.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
                let response = try connection.readResponse()
                #expect(response.status == 400)
                try connection.waitForClose(timeout: .seconds(2))
            }
        }
    }

    // MARK: Bodies the edge must re-frame for the upstream

    /// `Transfer-Encoding` is hop-by-hop, so the edge drops it from the head it sends up. For a
    /// POST, NIO's encoder then adds `chunked` again; for a GET (or DELETE, OPTIONS) it does not,
    /// and the body goes up unframed: the upstream reads it as the next request on the connection.
    @Test func getWithAChunkedBodyIsForwardedFramedSoNothingIsSmuggled() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\nX-Real-IP: 6.6.6.6\r\n\r\n"
                let connection = try edge.connect()
                defer { connection.close() }
                try connection.send(
                    "GET /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + String(smuggled.utf8.count, radix: 16) + "\r\n" + smuggled + "\r\n0\r\n\r\n")
                let response = try connection.readResponse()
                #expect(response.status == 200)
                // Another request through the edge, so a smuggled one would have been seen by now.
                let sentinel = try edge.request("GET", "/sentinel")
                #expect(sentinel.status == 200)
                #expect(!upstreams[0].requests.map(\.path).contains("/smuggled"), "the upstream ran a request the edge never saw")
                if let echo = try? response.echo() {
                    #expect(echo.bodyLength == smuggled.utf8.count, "the upstream got the body as a body")
                }
            }
        }
    }

    /// A client can name any header in `Connection`, and the edge removes the ones named. Naming
    /// `Content-Length` strips the body's framing from the request the upstream sees.
    @Test func connectionHeaderCannotStripContentLength() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
                let connection = try edge.connect()
                defer { connection.close() }
                try connection.send(
                    "GET /echo HTTP/1.1\r\nHost: a\r\nConnection: Content-Length\r\nContent-Length: \(smuggled.utf8.count)\r\n\r\n" + smuggled)
                let response = try connection.readResponse()
                #expect(response.status == 200)
                let sentinel = try edge.request("GET", "/sentinel")
                #expect(sentinel.status == 200)
                #expect(!upstreams[0].requests.map(\.path).contains("/smuggled"), "the upstream ran a request the edge never saw")
            }
        }
    }

    @Test func postWithAChunkedBodyArrivesWhole() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                try connection.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
                let response = try connection.readResponse()
                #expect(try response.echo().bodyLength == 11)
                let next = try connection.request("GET", "/echo")
                #expect(next.status == 200, "the connection is still in step")
            }
        }
    }

    // MARK: Expect: 100-continue

    @Test func expectContinueGets100ThenTheBodyIsForwarded() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                try connection.send("POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
                let interim = try connection.readResponse(skipInterim: false)
                #expect(interim.status == 100)
                try connection.send("hello")
                let response = try connection.readResponse()
                #expect(response.status == 200)
                let echo = try response.echo()
                #expect(echo.bodyLength == 5)
                #expect(echo.values("Expect").isEmpty, "the edge answered the expectation itself")
            }
        }
    }

    @Test func expectContinueOverTheBodyLimitGets413WithoutA100() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)], limits: "{max_body_size: 1k}")
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                try connection.send("POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n")
                let response = try connection.readResponse(skipInterim: false)
                #expect(response.status == 413)
                #expect(upstreams[0].requestCount == 0)
            }
        }
    }

    // MARK: HTTP/1.0 clients

    /// RFC 9112 §6.1: a server must not send `Transfer-Encoding` to a client that did not say
    /// HTTP/1.1; an HTTP/1.0 client reads a chunked body as garbage. It gets the chunks' data,
    /// ended by the close (also when it asked to keep the connection: the body has no length).
    @Test func http10ClientGetsAnUpstreamsChunkedBodyWithoutChunking() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)])
            try await withEdge(yaml: yaml) { edge in
                for keepAlive in [false, true] {
                    let connection = try edge.connect()
                    defer { connection.close() }
                    let connectionField = keepAlive ? "Connection: keep-alive\r\n" : ""
                    try connection.send("GET /chunked?bytes=300 HTTP/1.0\r\nHost: a\r\n\(connectionField)\r\n")
                    let response = try connection.readResponse()
                    #expect(response.status == 200)
                    #expect(response.header("Transfer-Encoding") == nil, "chunked sent to an HTTP/1.0 client")
                    #expect(response.body == Array(repeating: UInt8(ascii: "c"), count: 300))
                    #expect(connection.isClosed(within: .seconds(5)), "keep-alive: \(keepAlive)")
                }
            }
        }
    }

    @Test func http10ClientIsProxiedAndTheConnectionCloses() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                try connection.send("GET /big?bytes=300 HTTP/1.0\r\nHost: a\r\n\r\n")
                let response = try connection.readResponse()
                #expect(response.status == 200)
                #expect(response.bodyLength == 300)
                try connection.waitForClose(timeout: .seconds(2))
            }
        }
    }
}
