import NIOCore
import NIOHTTP2
import Testing

@testable import Edge

/// ALPN and HTTP/2 on the edge's TLS listener: protocol selection, requests over HTTP/2
/// streams, the advertised SETTINGS, and the "rapid reset" limit (CVE-2023-44487).
@Suite("TLS ALPN and HTTP/2 on loopback")
struct TLSHTTP2Tests {
    @Test func alpnNegotiatesH2OrHttp11AndBothAreProxiedWithForwardedProtoHttps() async throws {
        try await withTLSEdge({ directory, upstream in
            let a = try directory.makeCertificate("a.test")
            return try TLSTestConfig.make(
                upstream: upstream,
                listeners: [
                    TLSTestConfig.https("h2", certificates: [a.config(serverNames: ["a.test"])]),
                    TLSTestConfig.https("h1-only", certificates: [a.config(serverNames: ["a.test"])], http2: false),
                ])
        }) { edge, _, _ in
            let port = try edge.port(0)
            let hsts = try #require(edge.config.headers.hsts)

            var h2 = TLSClientOptions()
            h2.alpn = ["h2", "http/1.1"]
            try await withTLSConnection(port: port, h2) { connection in
                #expect(connection.negotiatedProtocol == "h2")
                #expect(connection.http2 != nil)
                // Two requests, each on its own stream of the one connection.
                for path in ["/app/over-h2?n=1", "/app/over-h2?n=2"] {
                    let response = try await connection.request(.GET, path)
                    #expect(response.status == 200, "\(path)")
                    #expect(response.body == TLSTestUpstream.body(name: "app", forwardedProto: "https", uri: path))
                    #expect(response.values("Strict-Transport-Security") == [hsts], "HSTS over HTTP/2")
                }
            }

            for alpn in [["http/1.1"], []] {
                var options = TLSClientOptions()
                options.alpn = alpn
                try await withTLSConnection(port: port, options) { connection in
                    #expect(connection.negotiatedProtocol == alpn.first, "offered \(alpn)")
                    #expect(connection.http2 == nil)
                    let response = try await connection.request(.GET, "/app/over-h1")
                    #expect(response.status == 200, "offered \(alpn)")
                    #expect(response.body == TLSTestUpstream.body(name: "app", forwardedProto: "https", uri: "/app/over-h1"))
                }
            }

            // With http2 off, the listener does not offer h2 even to a client that prefers it.
            try await withTLSConnection(port: try edge.port(1), h2) { connection in
                #expect(connection.negotiatedProtocol == "http/1.1")
                let response = try await connection.request(.GET, "/app/h1-only")
                #expect(response.status == 200)
            }
        }
    }

    /// The edge writes HTTP/2 frames itself (see `ResponseWriter`): every kind of answer must
    /// come out as a well-formed stream — proxied, bodiless, its own errors, a request with a
    /// body, and many streams in a row on one connection.
    @Test func everyKindOfAnswerIsAWellFormedStream() async throws {
        try await withTLSEdge({ directory, upstream in
            let a = try directory.makeCertificate("a.test")
            return try TLSTestConfig.make(upstream: upstream, listeners: [TLSTestConfig.https("h2", certificates: [a.config(serverNames: ["a.test"])])])
        }) { edge, _, _ in
            var h2 = TLSClientOptions()
            h2.alpn = ["h2"]
            try await withTLSConnection(port: try edge.port(0), h2) { connection in
                #expect(connection.negotiatedProtocol == "h2")
                let proxied = try await connection.request(.GET, "/app/kinds")
                #expect(proxied.status == 200)
                #expect(proxied.body == TLSTestUpstream.body(name: "app", forwardedProto: "https", uri: "/app/kinds"))
                #expect(proxied.header("x-test-upstream") == "app", "an upstream header, its name lowercased")
                #expect(proxied.header("x-request-id")?.count == 32)
                #expect(proxied.header("x-content-type-options") == "nosniff")
                #expect(proxied.header("connection") == nil && proxied.header("transfer-encoding") == nil)

                let head = try await connection.request(.HEAD, "/app/kinds")
                #expect(head.status == 200)
                #expect(head.body.isEmpty)

                let missing = try await connection.request(.GET, "/nowhere")
                #expect(missing.status == 404)
                #expect(missing.body.contains("no route"))
                #expect(missing.header("x-frame-options") != nil)

                let hidden = try await connection.request(.GET, "/app/.env")
                #expect(hidden.status == 403)

                let posted = try await connection.request(.POST, "/app/form", headers: [("Content-Type", "text/plain")], body: "hello")
                #expect(posted.status == 200)

                for index in 0..<20 {
                    let response = try await connection.request(.GET, "/app/n?i=\(index)")
                    #expect(response.status == 200, "stream \(index)")
                }
            }
        }
    }

    @Test func rapidResetClosesTheConnectionAndSettingsAdvertiseTheStreamLimit() async throws {
        try await withTLSEdge({ directory, upstream in
            let a = try directory.makeCertificate("a.test")
            var listener = TLSTestConfig.https(certificates: [a.config(serverNames: ["a.test"])])
            listener.tls?.http2Limits.maxConcurrentStreams = 7
            listener.tls?.http2Limits.maxResets = 20
            listener.tls?.http2Limits.resetWindow = .seconds(30)
            return try TLSTestConfig.make(upstream: upstream, listeners: [listener])
        }) { edge, _, _ in
            let port = try edge.port()
            var h2 = TLSClientOptions()
            h2.alpn = ["h2"]
            let connection = try await TLSTestConnection.connect(port: port, tls: h2)
            do {
                #expect(connection.negotiatedProtocol == "h2")
                try await tlsEventually("the server's SETTINGS frame") { connection.log.settings != nil }
                let settings = connection.log.settings ?? []
                #expect(settings.first { $0.parameter == .maxConcurrentStreams }?.value == 7, "SETTINGS \(settings)")
                #expect(settings.first { $0.parameter == .maxHeaderListSize }?.value == 16 * 1024, "SETTINGS \(settings)")

                // Resets are normal client behaviour (a user navigating away) up to the limit: a
                // request answered after them proves the edge processed them all and kept going
                // (frames on a connection are handled in order).
                for _ in 0..<5 { try await connection.openAndResetStream("/app/reset") }
                let afterFive = try await connection.request(.GET, "/app/after-5-resets")
                #expect(afterFive.status == 200)
                for _ in 5..<20 { try await connection.openAndResetStream("/app/reset") }
                let afterTwenty = try await connection.request(.GET, "/app/after-20-resets")
                #expect(afterTwenty.status == 200, "max_resets (20) resets are allowed")
                #expect(connection.log.goAway == nil)

                // One more reset within the window is one too many: GOAWAY (ENHANCE_YOUR_CALM) and a
                // close. A reset that reaches a stream the edge has already answered and closed is
                // not a reset at all, so under load a few more may be needed; bounded at 100.
                for _ in 0..<100 where connection.log.goAway == nil && !connection.isClosed {
                    try? await connection.openAndResetStream("/app/reset")
                }
                try await tlsEventually("a GOAWAY after the resets") { connection.log.goAway != nil || connection.isClosed }
                #expect(connection.log.goAway == .enhanceYourCalm, "GOAWAY \(connection.log.goAway.map { "\($0)" } ?? "(none)")")
                do {
                    try await tlsEventually("the edge to close the connection after its GOAWAY") { connection.isClosed }
                } catch {
                    Issue.record("\(error): the edge sent GOAWAY but left the TCP connection open")
                }
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()

            // The limit is per connection: a new one is served.
            try await withTLSConnection(port: port, h2) { fresh in
                let response = try await fresh.request(.GET, "/app/fresh")
                #expect(response.status == 200)
            }
        }
    }
}
