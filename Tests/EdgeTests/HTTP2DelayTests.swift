import Foundation
import NIOCore
import Testing

@testable import Edge

/// `limit_req` delays over HTTP/2 (nginx delays a stream as it delays an HTTP/1.1 request):
/// the streams over the rate wait, each for its turn, while the connection's other streams go
/// on; a waiting stream keeps its request body, and a stream reset while it waits is forgotten.
@Suite("HTTP/2 limit_req delays")
struct HTTP2DelayTests {
    static func withDelayingEdge<T>(_ body: (TLSTestEdge, TLSTestUpstream) async throws -> T) async throws -> T {
        try await withTLSEdge({ directory, upstream in
            let a = try directory.makeCertificate("a.test")
            return try TLSTestConfig.make(
                upstream: upstream, listeners: [TLSTestConfig.https("h2", certificates: [a.config(serverNames: ["a.test"])])])
        }) { edge, _, upstream in try await body(edge, upstream) }
    }

    static var h2: TLSClientOptions {
        var options = TLSClientOptions()
        options.alpn = ["h2"]
        return options
    }

    @Test
    func streamsOverTheRateWaitTheirTurnWithTheirBodies() async throws {
        try await Self.withDelayingEdge { edge, _ in
            try await withTLSConnection(port: try edge.port(0), Self.h2) { connection in
                #expect(connection.negotiatedProtocol == "h2")
                let body = String(repeating: "b", count: 100_000)
                let started = ContinuousClock.now
                // At 4 r/s, the second and third requests wait about 250 and 500 ms.
                async let first = connection.request(.GET, "/spaced/one")
                async let second = connection.request(.POST, "/spaced/two", body: body)
                async let third = connection.request(.GET, "/spaced/three")
                let responses = try await [first, second, third]
                let elapsed = ContinuousClock.now - started
                #expect(responses.map(\.status) == [200, 200, 200])
                let posted = try #require(responses.first { $0.body.contains("uri=/spaced/two") })
                #expect(posted.header("x-test-body-bytes") == "100000", "the body waited with its stream")
                #expect(elapsed >= .milliseconds(400) && elapsed < .seconds(10), "three streams took \(elapsed)")
            }
        }
    }

    /// A stream that waits (a minute, at 1 r/m) holds none of its connection's other streams:
    /// the waiting stream's HEADERS and another route's go in one write, in that order.
    @Test
    func aWaitingStreamHoldsNoOtherStream() async throws {
        try await Self.withDelayingEdge { edge, upstream in
            try await HTTP2StreamTests.withConnection(port: try edge.port(0)) { connection in
                typealias H2 = RawHTTP2Connection
                try await connection.send(H2.headers(stream: 1, H2.request("GET", "/waiting/first"), endStream: true))
                try await connection.frames(until: "the first answer") { _ in (try? connection.statuses()[1]) != nil }
                #expect(try connection.statuses()[1] == 200)
                try await connection.send(
                    H2.headers(stream: 3, H2.request("GET", "/waiting/held"), endStream: true)
                        + H2.headers(stream: 5, H2.request("GET", "/app/now"), endStream: true))
                try await connection.frames(until: "the other route's answer") { _ in (try? connection.statuses()[5]) != nil }
                #expect(try connection.statuses()[5] == 200)
                #expect(try connection.statuses()[3] == nil, "the held stream was answered")
                #expect(upstream.requestsReceived == 2, "the held stream went upstream")
            }
        }
    }

    @Test
    func aStreamResetWhileItWaitsIsForgotten() async throws {
        try await Self.withDelayingEdge { edge, upstream in
            try await withTLSConnection(port: try edge.port(0), Self.h2) { connection in
                #expect(try await connection.request(.GET, "/waiting/first").status == 200)
                // At 1 r/m the next request waits a minute, and is reset meanwhile: logged as
                // the client's abandonment (499), never forwarded.
                try await connection.openAndResetStream("/waiting/reset")
                let series = "http_requests_total{route=\"/waiting/\",method=\"GET\",status=\"499\"}"
                let deadline = ContinuousClock.now + .seconds(10)
                while metricValue(try await edge.metrics(), series) != 1 {
                    guard ContinuousClock.now < deadline else {
                        Issue.record("no 499 for the reset stream within 10 s")
                        break
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                let next = try await connection.request(.GET, "/app/after")
                #expect(next.status == 200, "the connection's other streams go on")
                #expect(upstream.requestsReceived == 2, "the reset stream went upstream")
            }
        }
    }
}
