import Backend
import Foundation
import Testing

@Suite("Metrics: Prometheus series per route template")
struct MetricsTests {
    @Test func requestsAreCountedByMethodRouteTemplateAndStatus() async throws {
        try await APITest.withAPI { api, services in
            let first = try await api.post("/api/racks", ["name": "A", "total_height_u": 12])
            let second = try await api.post("/api/racks", ["name": "B", "total_height_u": 12])
            for response in [first, second] {
                let id = try #require(response.object["id"] as? Int)
                #expect(try await api.get("/api/racks/\(id)").status == .ok)
            }
            #expect(try await api.get("/api/racks/424242").status == .notFound)
            #expect(try await api.get("/api/no-such-route/7").status == .notFound)

            let text = services.metrics.exposition()
            #expect(text.contains(#"http_requests_total{method="POST",route="/api/racks",status="201"} 2"#))
            #expect(text.contains(#"http_requests_total{method="GET",route="/api/racks/{id}",status="200"} 2"#))
            #expect(text.contains(#"http_requests_total{method="GET",route="/api/racks/{id}",status="404"} 1"#))
            #expect(text.contains(#"http_requests_total{method="GET",route="unmatched",status="404"} 1"#))
            #expect(text.contains(#"http_request_duration_seconds_count{method="GET",route="/api/racks/{id}"} 3"#))
            #expect(
                text.contains(
                    #"http_request_duration_seconds_bucket{method="GET",route="/api/racks/{id}",le="+Inf"} 3"#))
            #expect(text.contains("# TYPE http_request_duration_seconds histogram"))
            #expect(text.contains("http_requests_in_flight 0"))
        }
    }

    @Test func rawPathsAndIDsNeverBecomeLabels() async throws {
        try await APITest.withAPI { api, services in
            _ = try await api.get("/api/racks/987654")
            _ = try await api.get("/api/racks/abc")
            _ = try await api.get("/totally/unknown/55501?token=secret")
            _ = try await api.request(.init("BREW")!, "/api/racks")
            let text = services.metrics.exposition()
            #expect(!text.contains("987654"))
            #expect(!text.contains("abc"))
            #expect(!text.contains("55501"))
            #expect(!text.contains("secret"))
            #expect(!text.contains("BREW"))
            #expect(text.contains(#"method="other""#))
        }
    }

    @Test func metricsEndpointServesTheExpositionWithCacheSeries() async throws {
        try await APITest.withAPI { api, _ in
            _ = try await api.get("/api/racks")
            let response = try await api.get("/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = response.text
            #expect(text.contains(#"http_requests_total{method="GET",route="/api/racks",status="200"} 1"#))
            #expect(text.contains(#"cache_breaker_state{state="disabled"} 1"#))
            #expect(text.contains(#"cache_breaker_state{state="open"} 0"#))
            #expect(text.contains("# TYPE cache_misses_total counter"))
        }
    }

    @Test func cacheCountersGrowByWhatTheCacheCountedSinceTheLastScrape() async throws {
        let cache = FixedStatisticsCache(CacheStatistics(backend: "redis", hits: 3, misses: 5, breakerState: "closed"))
        let metrics = BackendMetrics()
        await metrics.refresh(cache: cache)
        #expect(metrics.exposition().contains("cache_hits_total 3"))
        #expect(metrics.exposition().contains("cache_misses_total 5"))

        cache.current = CacheStatistics(backend: "redis", hits: 10, misses: 5, breakerState: "open", breakerOpenings: 1)
        await metrics.refresh(cache: cache)
        await metrics.refresh(cache: cache)
        let text = metrics.exposition()
        #expect(text.contains("cache_hits_total 10"))
        #expect(text.contains("cache_misses_total 5"))
        #expect(text.contains("cache_breaker_openings_total 1"))
        #expect(text.contains(#"cache_breaker_state{state="open"} 1"#))
        #expect(text.contains(#"cache_breaker_state{state="closed"} 0"#))
    }
}
