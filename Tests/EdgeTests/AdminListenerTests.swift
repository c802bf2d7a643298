import Testing

@testable import Edge

/// The admin listener (on the edge's I/O core): `GET /metrics` and `HEAD /metrics` in
/// Prometheus text, on kept connections; anything else 404.
@Suite("Admin listener")
struct AdminListenerTests {
    @Test func metricsAreServedOnKeptConnectionsAndNothingElse() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                #expect(try edge.request("GET", "/echo").status == 200)
                let port = try #require(edge.adminPort)
                let connection = try RawHTTPConnection(port: port)
                defer { connection.close() }
                let metrics = try connection.request("GET", "/metrics")
                #expect(metrics.status == 200)
                #expect(metrics.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
                #expect(metrics.header("Cache-Control") == "no-store")
                #expect(metrics.text.contains("# TYPE http_requests_total counter"), "\(metrics.text.prefix(400))")
                #expect(metrics.bodyLength == Int(metrics.header("Content-Length") ?? ""))
                // The same connection, kept: HEAD describes the text without it.
                let head = try connection.request("HEAD", "/metrics")
                #expect(head.status == 200)
                #expect(head.bodyLength == 0)
                #expect(Int(head.header("Content-Length") ?? "") ?? 0 > 0)
                for (method, target) in [("GET", "/"), ("POST", "/metrics"), ("GET", "/metrics/extra")] {
                    let other = try connection.request(method, target)
                    #expect(other.status == 404, "\(method) \(target)")
                    #expect(other.text == "only GET /metrics is served here\n")
                }
                // HTTP/1.0 without keep-alive: answered, then closed.
                let old = try RawHTTPConnection(port: port)
                defer { old.close() }
                try old.send("GET /metrics HTTP/1.0\r\n\r\n")
                #expect(try old.readResponse().status == 200)
                #expect(old.isClosed(within: .seconds(5)))
            }
        }
    }
}
