import Backend
import Testing

/// Adding workers' Prometheus expositions into the supervisor's one scrape, and keeping exited
/// workers' counters so totals never go backwards.
@Suite("Supervisor metrics merge")
struct SupervisorMetricsTests {
    static func exposition(requests: Int, inFlight: Int, slowBucket: Int) -> String {
        """
        # HELP http_requests_total HTTP requests answered
        # TYPE http_requests_total counter
        http_requests_total{method="GET",route="/api/racks",status="200"} \(requests)
        # TYPE http_requests_in_flight gauge
        http_requests_in_flight \(inFlight)
        # HELP http_request_duration_seconds Request latency
        # TYPE http_request_duration_seconds histogram
        http_request_duration_seconds_bucket{route="/api/racks",le="0.1"} \(requests - slowBucket)
        http_request_duration_seconds_bucket{route="/api/racks",le="+Inf"} \(requests)
        http_request_duration_seconds_sum{route="/api/racks"} 0.5
        http_request_duration_seconds_count{route="/api/racks"} \(requests)

        """
    }

    static func value(_ exposition: MetricsExposition, _ series: String) -> Double? {
        exposition.families.flatMap(\.samples).first { $0.series == series }?.value
    }

    static let requests = #"http_requests_total{method="GET",route="/api/racks",status="200"}"#
    static let count = #"http_request_duration_seconds_count{route="/api/racks"}"#
    static let slowBucket = #"http_request_duration_seconds_bucket{route="/api/racks",le="+Inf"}"#

    @Test func parsesFamiliesWithTheirTypesAndSamples() {
        let parsed = MetricsExposition(parsing: Self.exposition(requests: 10, inFlight: 2, slowBucket: 1))
        #expect(
            parsed.families.map(\.name) == [
                "http_requests_total", "http_requests_in_flight", "http_request_duration_seconds",
            ])
        #expect(parsed.families.map(\.type) == [.counter, .gauge, .histogram])
        #expect(parsed.families[2].samples.count == 4, "buckets, sum and count belong to the histogram")
        #expect(Self.value(parsed, Self.slowBucket) == 10)
    }

    @Test func labelValuesMayHoldBracesSpacesAndEscapedQuotes() {
        let parsed = MetricsExposition(parsing: #"odd{path="/a b}",q="say \"hi\""} 3 1700000000000"#)
        #expect(parsed.families.first?.samples == [.init(series: #"odd{path="/a b}",q="say \"hi\""}"#, value: 3)])
    }

    @Test func addingSumsEqualSeriesAndKeepsTheRest() {
        var total = MetricsExposition(parsing: Self.exposition(requests: 10, inFlight: 2, slowBucket: 1))
        total.add(MetricsExposition(parsing: Self.exposition(requests: 5, inFlight: 1, slowBucket: 0)))
        total.add(MetricsExposition(parsing: "# TYPE other_total counter\nother_total 7\n"))
        #expect(Self.value(total, Self.requests) == 15)
        #expect(Self.value(total, "http_requests_in_flight") == 3)
        #expect(Self.value(total, "http_request_duration_seconds_sum{route=\"/api/racks\"}") == 1.0)
        #expect(Self.value(total, "other_total") == 7)
    }

    @Test func renderingRoundTrips() {
        let text = Self.exposition(requests: 10, inFlight: 2, slowBucket: 1)
        let parsed = MetricsExposition(parsing: text)
        #expect(MetricsExposition(parsing: parsed.render()) == parsed)
        #expect(parsed.render().contains("http_request_duration_seconds_bucket{route=\"/api/racks\",le=\"+Inf\"} 10\n"))
        #expect(parsed.render().contains("http_request_duration_seconds_sum{route=\"/api/racks\"} 0.5\n"))
    }

    @Test func aRecycledWorkersCountersStayInTheTotalButItsGaugesLeave() {
        var aggregate = WorkerMetricsAggregate()
        aggregate.snapshot(pid: 1, text: Self.exposition(requests: 100, inFlight: 3, slowBucket: 2))
        aggregate.snapshot(pid: 2, text: Self.exposition(requests: 40, inFlight: 1, slowBucket: 0))
        let before = aggregate.merged(workers: 2)
        #expect(Self.value(before, Self.requests) == 140)

        aggregate.workerExited(pid: 1, reason: .recycled)
        aggregate.snapshot(pid: 3, text: Self.exposition(requests: 0, inFlight: 0, slowBucket: 0))
        let after = aggregate.merged(workers: 2)
        #expect(Self.value(after, Self.requests) == 140, "the total does not go backwards")
        #expect(Self.value(after, Self.count) == 140)
        #expect(Self.value(after, "http_requests_in_flight") == 1, "only live workers' gauges count")
        #expect(Self.value(after, #"backend_worker_exits_total{reason="recycled"}"#) == 1)
        #expect(Self.value(after, "backend_workers") == 2)

        aggregate.snapshot(pid: 3, text: Self.exposition(requests: 7, inFlight: 0, slowBucket: 0))
        #expect(Self.value(aggregate.merged(workers: 2), Self.requests) == 147)
    }

    @Test func aKilledWorkerKeepsItsLastSnapshotInTheTotal() {
        var aggregate = WorkerMetricsAggregate()
        aggregate.snapshot(pid: 1, text: Self.exposition(requests: 10, inFlight: 0, slowBucket: 0))
        aggregate.snapshot(pid: 1, text: Self.exposition(requests: 25, inFlight: 0, slowBucket: 0))
        aggregate.workerExited(pid: 1, reason: .timeout)
        #expect(Self.value(aggregate.merged(workers: 1), Self.requests) == 25)
    }
}
