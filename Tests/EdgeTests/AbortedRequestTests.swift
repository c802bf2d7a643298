import Foundation
import Testing

@testable import Edge

/// Requests that end badly: each still gets its access-log line, a client's concurrency is
/// capped behind a trusted proxy, a body cut at the size limit never looks complete upstream,
/// and a refused reload is counted.
@Suite("Aborted requests", .serialized)
struct AbortedRequestTests {
    /// Runs `body` with an access log in a temporary file, then returns its JSON lines (read
    /// after `body` returns, once the edge it started has shut down and flushed the log).
    static func withAccessLog(_ body: (_ logging: String) async throws -> Void) async throws -> [[String: Any]] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("edge-log-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("access.log").path
        try await body("{access_log: \"\(path)\", error_log: \"off\"}")
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
        }
    }

    @Test func aClientThatLeavesWhileTheUpstreamWorksIsLoggedAs499() async throws {
        let records = try await Self.withAccessLog { logging in
            try await withUpstreams(["a"]) { upstreams in
                var yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)])
                yaml.logging = logging
                try await withEdge(yaml: yaml) { edge in
                    let connection = try edge.connect()
                    try connection.sendRequest("GET", "/slow?ms=20000")
                    try await eventually("the request to reach the upstream") { upstreams[0].requestCount(path: "/slow") == 1 }
                    connection.close()
                    try await eventually("the edge to notice the client left", timeout: .seconds(60)) {
                        (try edge.metrics()).contains("edge_open_connections 0")
                    }
                }
            }
        }
        let line = try #require(records.first { ($0["path"] as? String)?.hasPrefix("/slow") == true }, "a line for the abandoned request")
        #expect(line["status"] as? Int == 499)
        #expect(line["bytes_out"] as? Int == 0)
    }

    @Test func aClientDroppedByTheSendTimeoutIsLoggedWithTheBytesItGot() async throws {
        let size = 64 * 1024 * 1024
        let records = try await Self.withAccessLog { logging in
            try await withUpstreams(["a"]) { upstreams in
                var yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)])
                yaml.logging = logging
                yaml.timeouts = "{client_header: 5s, client_body: 5s, keepalive: 5s, send: 500ms, shutdown_grace: 1s}"
                try await withEdge(yaml: yaml) { edge in
                    let connection = try edge.connect()
                    defer { connection.close() }
                    try connection.sendRequest("GET", "/big?bytes=\(size)")
                    // This client never reads: the edge drops it once `send` passes without progress.
                    try await eventually("the request to reach the upstream") { upstreams[0].requestCount(path: "/big") == 1 }
                    try await eventually("the edge to drop the stalled client", timeout: .seconds(60)) {
                        (try edge.metrics()).contains("edge_open_connections 0")
                    }
                }
            }
        }
        let line = try #require(records.first { ($0["path"] as? String)?.hasPrefix("/big") == true }, "a line for the dropped request")
        #expect(line["status"] as? Int == 200)
        let sent = try #require(line["bytes_out"] as? Int)
        #expect(sent > 0 && sent < size, "bytes_out \(sent) counts what was written, not the whole body")
    }

    /// `bytes_in` is the request body received: a `Content-Length` body, a chunked one (without
    /// the coding), over HTTP/1.1 and over HTTP/2.
    @Test func requestBodiesAreCountedInTheAccessLog() async throws {
        let records = try await Self.withAccessLog { logging in
            try await withUpstreams(["a"]) { upstreams in
                var yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)])
                yaml.logging = logging
                try await withEdge(yaml: yaml) { edge in
                    let connection = try edge.connect()
                    defer { connection.close() }
                    let sized = try connection.request("POST", "/echo?sized", body: [UInt8](repeating: 0x61, count: 3000))
                    #expect(sized.status == 200)
                    try connection.send(
                        Array("POST /echo?chunked HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
                            + Array("400\r\n".utf8) + [UInt8](repeating: 0x62, count: 1024) + Array("\r\n7\r\nabcdefg\r\n0\r\n\r\n".utf8))
                    #expect(try connection.readResponse().status == 200)
                }
            }
            let directory = try TLSTestDirectory()
            defer { directory.remove() }
            let certificate = try directory.makeCertificate("a.test")
            try await withUpstreams(["a"]) { upstreams in
                var yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)])
                yaml.logging = logging
                // Long header and keep-alive timeouts, as in the other HTTP/2 tests: under the whole
                // suite a TLS handshake, SETTINGS and the first stream can take over the default 1 s,
                // and the edge closing the idle connection fails the test ("I/O on closed channel").
                yaml.timeouts = "{client_header: 60s, client_body: 10s, keepalive: 60s, send: 10s, shutdown_grace: 1s}"
                var config = try yaml.config()
                config.listeners = [TLSTestConfig.https(certificates: [certificate.config(serverNames: ["a.test"])])]
                try await withEdge(config: config) { edge in
                    try await HTTP2StreamTests.withConnection(port: edge.port) { connection in
                        try await connection.send(
                            RawHTTP2Connection.headers(
                                stream: 1, RawHTTP2Connection.request("POST", "/echo?h2") + [("content-length", "5000")],
                                endStream: false)
                                + RawHTTP2Connection.data(stream: 1, [UInt8](repeating: 0x63, count: 5000), endStream: true))
                        try await connection.frames(until: "stream 1's answer") { $0.contains { $0.streamID == 1 && $0.endStream } }
                        #expect(try connection.statuses()[1] == 200)
                    }
                }
            }
        }
        func bytesIn(_ query: String) -> Int? {
            records.first { ($0["path"] as? String)?.hasSuffix(query) == true }?["bytes_in"] as? Int
        }
        #expect(bytesIn("?sized") == 3000)
        #expect(bytesIn("?chunked") == 1031)
        #expect(bytesIn("?h2") == 5000)
    }

    @Test func theConnectionCapCountsRequestsInFlightPerClientBehindATrustedProxy() async throws {
        try await withUpstreams(["a"]) { upstreams in
            var yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)], limits: "{connections_per_client: 3}")
            yaml.trustedProxies = "[127.0.0.1/32]"
            try await withEdge(yaml: yaml) { edge in
                // Four requests of one client through the proxy, each on its own proxy connection.
                var connections: [RawHTTPConnection] = []
                defer { connections.forEach { $0.close() } }
                for _ in 0..<4 {
                    let connection = try edge.connect()
                    connections.append(connection)
                    try connection.sendRequest("GET", "/slow?ms=1500", headers: [("X-Forwarded-For", "203.0.113.9")])
                }
                let statuses = try connections.map { try $0.readResponse(timeout: .seconds(10)).status }
                #expect(statuses.sorted() == [200, 200, 200, 503], "\(statuses)")
                #expect(upstreams[0].requestCount(path: "/slow") == 3, "the fourth never reached the upstream")
                // Another client of the same proxy is not affected, and the slots come back. (On
                // new proxy connections: the one answered 503 at once may have been closed by the
                // keep-alive timeout while the others waited, and which one that was depends on
                // the order the edge's loops took them in.)
                let other = try edge.request("GET", "/echo", headers: [("X-Forwarded-For", "198.51.100.7")])
                #expect(other.status == 200)
                let again = try edge.request("GET", "/echo", headers: [("X-Forwarded-For", "203.0.113.9")])
                #expect(again.status == 200)
            }
        }
    }

    @Test func aChunkedBodyCutAtTheSizeLimitResetsTheUpstreamConnection() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)], limits: "{max_body_size: 1m}")
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                try connection.send("POST /echo HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\r\n\r\n")
                let chunk = [UInt8]("10000\r\n".utf8) + [UInt8](repeating: 0x62, count: 0x10000) + [UInt8]("\r\n".utf8)
                for _ in 0..<32 {  // 2 MiB in 64 KiB chunks
                    do { try connection.send(chunk) } catch { break }
                }
                let response = try connection.readResponse(timeout: .seconds(10))
                #expect(response.status == 413)
                try await eventually("the upstream to see its request end") { upstreams[0].requestsCutShort == 1 }
                #expect(upstreams[0].requestsEnded == 0, "the upstream never saw the request complete")
                #expect(upstreams[0].resetsSeen == 1, "the upstream connection was reset, not closed cleanly")
            }
        }
    }

    @Test func aReloadRefusedForAnInvalidFileIsCounted() async throws {
        try await withEdge(yaml: EdgeYAML()) { edge in
            struct Unreadable: Error {}
            #expect(throws: Unreadable.self) { try edge.server.reload { throw Unreadable() } }
            let metrics = try edge.metrics()
            #expect(metricValue(metrics, "edge_config_reloads_total{result=\"failure\"}") == 1)
            #expect(metricValue(metrics, "edge_config_reloads_total{result=\"success\"}") == 0)
        }
    }
}
