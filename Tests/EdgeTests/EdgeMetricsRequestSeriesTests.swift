import Limits
import Testing

@testable import Edge

/// Requests are counted through a one-series cache per shard (``EdgeMetrics/RecentSeries``):
/// whatever the order of series and scrapes, every request is counted once, in its own series.
@Suite("Edge metrics: request series")
struct EdgeMetricsRequestSeriesTests {
    static func line(_ text: String, _ prefix: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix + " ") }.map(String.init)
    }

    @Test func interleavedSeriesAndScrapesCountEachRequestOnce() {
        let metrics = EdgeMetrics(shardCount: 2)
        let now = Instant(nanoseconds: 0)
        metrics.recordRequest(shard: 0, route: "/api/", method: "GET", status: 200, seconds: 0.0005)
        metrics.recordRequest(shard: 0, route: "/api/", method: "GET", status: 200, seconds: 0.003)
        metrics.recordRequest(shard: 0, route: "/", method: "GET", status: 404, seconds: 0.2)
        // A scrape between two requests of one series folds what it has so far.
        let first = metrics.render(clusters: [], now: now)
        #expect(Self.line(first, #"http_requests_total{route="/api/",method="GET",status="200"}"#)?.hasSuffix(" 2") == true)
        metrics.recordRequest(shard: 0, route: "/api/", method: "GET", status: 200, seconds: 0.0005)
        metrics.recordRequest(shard: 1, route: "/api/", method: "GET", status: 200, seconds: 0.0005)
        metrics.recordRequest(shard: 0, route: "/api/", method: "BREW", status: 200, seconds: 0.0005)
        metrics.recordRequest(shard: 0, route: "/api/", method: "GET", status: 200, seconds: 0.0005)
        let text = metrics.render(clusters: [], now: now)
        #expect(Self.line(text, #"http_requests_total{route="/api/",method="GET",status="200"}"#)?.hasSuffix(" 5") == true, "\(text)")
        #expect(Self.line(text, #"http_requests_total{route="/api/",method="OTHER",status="200"}"#)?.hasSuffix(" 1") == true)
        #expect(Self.line(text, #"http_requests_total{route="/",method="GET",status="404"}"#)?.hasSuffix(" 1") == true)
        #expect(Self.line(text, #"http_request_duration_seconds_count{route="/api/"}"#)?.hasSuffix(" 6") == true)
        #expect(Self.line(text, #"http_request_duration_seconds_bucket{route="/api/",le="0.001"}"#)?.hasSuffix(" 5") == true)
        #expect(Self.line(text, #"http_request_duration_seconds_bucket{route="/api/",le="0.005"}"#)?.hasSuffix(" 6") == true)
        #expect(Self.line(text, #"http_request_duration_seconds_bucket{route="/",le="0.1"}"#)?.hasSuffix(" 0") == true)
        #expect(Self.line(text, #"http_request_duration_seconds_bucket{route="/",le="0.25"}"#)?.hasSuffix(" 1") == true)
        // A scrape without new requests changes nothing.
        #expect(metrics.render(clusters: [], now: now) == text)
    }
}
