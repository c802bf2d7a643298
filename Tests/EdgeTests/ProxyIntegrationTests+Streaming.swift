import Testing

@testable import Edge

/// Large bodies stream through the edge in both directions under backpressure, never buffered whole.
extension ProxyIntegrationTests {
    @Test func largeDownloadArrivesCompleteWithoutBeingBuffered() async throws {
        let size = 64 * 1024 * 1024
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                // Warm up the path (pools, buffers) so the measurement sees only the big body.
                let warmUp = try connection.request("GET", "/big?bytes=1048576", timeout: .seconds(3))
                #expect(warmUp.bodyLength == 1_048_576)
                let before = try residentSetBytes()
                try connection.sendRequest("GET", "/big?bytes=\(size)")
                let response = try connection.readResponse(timeout: .seconds(60), discardBody: true)
                let growth = try residentSetBytes() - before
                #expect(response.status == 200)
                #expect(response.header("Content-Length") == String(size))
                #expect(response.bodyLength == size)
                // The edge, the upstream and the client all live in this process: a body buffered
                // anywhere would show as tens of megabytes.
                #expect(growth < 32 * 1024 * 1024, "resident set grew by \(growth / 1024 / 1024) MiB for a 64 MiB body")
                let next = try connection.request("GET", "/echo")
                #expect(next.status == 200, "the connection is still in step after the download")
            }
        }
    }

    @Test func largeUploadWithContentLengthArrivesComplete() async throws {
        let size = 10 * 1024 * 1024
        try await withUpstreams(["a"]) { upstreams in
            let yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)], limits: "{max_body_size: 20m}")
            try await withEdge(yaml: yaml) { edge in
                let response = try edge.request("POST", "/echo", body: [UInt8](repeating: 0x5A, count: size), timeout: .seconds(30))
                #expect(response.status == 200)
                #expect(try response.echo().bodyLength == size)
            }
        }
    }

    @Test func largeChunkedUploadArrivesComplete() async throws {
        let chunk = [UInt8](repeating: 0x43, count: 64 * 1024)
        let chunks = 160  // 10 MiB
        try await withUpstreams(["a"]) { upstreams in
            let yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)], limits: "{max_body_size: 20m}")
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                try connection.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
                let framed = Array("10000\r\n".utf8) + chunk + Array("\r\n".utf8)
                for _ in 0..<chunks { try connection.send(framed) }
                try connection.send("0\r\n\r\n")
                let response = try connection.readResponse(timeout: .seconds(30))
                #expect(response.status == 200)
                #expect(try response.echo().bodyLength == chunk.count * chunks)
            }
        }
    }

    @Test func chunkedUpstreamResponseIsRelayedWhole() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                let response = try connection.request("GET", "/chunked?bytes=200000", timeout: .seconds(3))
                #expect(response.status == 200)
                #expect(response.bodyLength == 200_000)
                let next = try connection.request("GET", "/echo")
                #expect(next.status == 200)
            }
        }
    }

    @Test func clientThatStopsReadingIsDroppedAfterTheSendTimeout() async throws {
        let size = 64 * 1024 * 1024
        try await withUpstreams(["a"]) { upstreams in
            var yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)])
            yaml.timeouts = "{client_header: 3s, keepalive: 3s, send: 500ms}"
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                try connection.sendRequest("GET", "/big?bytes=\(size)")
                // The client reads nothing: buffers fill, the edge stalls, and `send` later it drops
                // the client, which ends the upstream request (the edge stops reading the upstream
                // while the client does not read, so 64 MiB cannot have been relayed whole by then).
                let inFlight = "edge_upstream_in_flight{upstream=\"app\",server=\"\(upstreams[0].address)\"}"
                // The gauge counts the request from before the upstream receives it until it ends.
                try await eventually("the download to start") { upstreams[0].requestCount(path: "/big") == 1 }
                try await eventually("the edge to drop the client that stopped reading", timeout: .seconds(10)) {
                    metricValue(try edge.metrics(), inFlight) == 0
                }
                do {
                    let response = try connection.readResponse(timeout: .seconds(3), discardBody: true)
                    Issue.record("the whole body (\(response.bodyLength) bytes) arrived; the stalled client was never dropped")
                } catch RawHTTPError.closed, RawHTTPError.reset {
                    // Dropped part way: expected.
                }
            }
        }
    }

    @Test func clientClosingMidDownloadReleasesTheUpstream() async throws {
        try await withUpstreams(["a"]) { upstreams in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let connection = try edge.connect()
                try connection.sendRequest("GET", "/big?bytes=\(64 * 1024 * 1024)")
                try await eventually("the download to start") { upstreams[0].requestCount(path: "/big") == 1 }
                connection.close()
                try await eventually("the upstream request to be released") {
                    metricValue(try edge.metrics(), "edge_upstream_in_flight{upstream=\"app\",server=\"\(upstreams[0].address)\"}") == 0
                }
                let next = try edge.request("GET", "/echo")
                #expect(next.status == 200)
            }
        }
    }
}
