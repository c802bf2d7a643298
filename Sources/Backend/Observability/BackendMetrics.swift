import HTTPTypes
import Prometheus
import Synchronization

/// The worker's Prometheus metrics, served at `GET /metrics` in the text exposition format.
///
/// HTTP (recorded per request by ``ObservabilityMiddleware``):
/// - `http_requests_total{method,route,status}`: requests answered.
/// - `http_request_duration_seconds{method,route}`: time until the response was ready.
/// - `http_requests_in_flight`: requests being handled now.
///
/// `route` is the matched route's template (`/api/racks/{id}`), `unmatched` when no route
/// matched; `method` is one of the standard methods or `other`. Never a raw path or an id, so the
/// number of series stays bounded whatever clients send.
///
/// Cache and database (read by ``refresh(cache:)`` before each exposition, in
/// `BackendMetrics+Sources.swift`): the cache's counters (`cache_hits_total`, ...), its breaker state
/// and connections, and for PostgreSQL the pool's configured bounds and its recovery counters.
/// PostgresNIO does not expose how many pooled connections are in use, so there is no such gauge.
public final class BackendMetrics: Sendable {
    /// The registry every series lives in.
    public let registry: PrometheusCollectorRegistry
    /// The PostgreSQL pool whose counters are exported, if the store uses one.
    let postgres: PostgresDatabase?
    /// The circuit breaker in front of PostgreSQL, if any.
    let databaseBreaker: BreakerDatabase?
    private let inFlight: Gauge
    /// The cumulative counts (cache statistics, driver counters) last mirrored into counters, by
    /// counter name.
    let mirroredCounts = Mutex<[String: Int]>([:])
    /// Each label set's request counter and duration histogram, once the registry has made them:
    /// asking the registry per request validated every label name and hashed the label arrays
    /// again (about 1 % of an uncached layout's CPU).
    private let requestSeries = Mutex<[RequestSeriesKey: RequestSeries]>([:])

    /// Request durations, 5 ms to 10 s.
    static let durationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    static var requests: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "http_requests", unitName: "total",
            helpText: "HTTP requests answered, by method, route and status")
    }
    static var duration: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "http_request_duration", unitName: "seconds",
            helpText: "Time from receiving an HTTP request to its response being ready, by method and route")
    }
    static var inFlightDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "http_requests_in_flight", unitName: "", helpText: "HTTP requests being handled")
    }

    /// - Parameters:
    ///   - registry: where the series are kept (a new one by default).
    ///   - postgres: the PostgreSQL database whose pool to export, if any.
    ///   - databaseBreaker: the breaker in front of it, whose state to export, if any.
    public init(
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), postgres: PostgresDatabase? = nil,
        databaseBreaker: BreakerDatabase? = nil
    ) {
        self.registry = registry
        self.postgres = postgres
        self.databaseBreaker = databaseBreaker
        self.inFlight = registry.makeGauge(descriptor: Self.inFlightDescriptor)
        registerStaticSeries()
    }

    /// A request started.
    func requestStarted() {
        inFlight.increment()
    }

    /// A request was answered.
    /// - Parameters:
    ///   - method: the request method (bounded to the standard ones here).
    ///   - route: the route template, or `nil` when no route matched.
    ///   - status: the response status code.
    ///   - duration: from the request's arrival to its response.
    func requestFinished(method: HTTPRequest.Method, route: String?, status: Int, duration: Duration) {
        inFlight.decrement()
        let key = RequestSeriesKey(method: Self.methodLabel(method), route: Self.routeLabel(route), status: status)
        let series = requestSeries.withLock { $0[key] } ?? makeRequestSeries(key)
        series.requests.increment()
        series.duration.record(duration)
    }

    /// The series of one label set, made by the registry (which returns the existing ones when
    /// another worker thread made them first) and remembered.
    private func makeRequestSeries(_ key: RequestSeriesKey) -> RequestSeries {
        let series = RequestSeries(
            requests: registry.makeCounter(
                descriptor: Self.requests,
                labels: [("method", key.method), ("route", key.route), ("status", String(key.status))]),
            duration: registry.makeDurationHistogram(
                descriptor: Self.duration, labels: [("method", key.method), ("route", key.route)],
                buckets: Self.durationBuckets))
        requestSeries.withLock { $0[key] = series }
        return series
    }

    /// The exposition text (Prometheus format 0.0.4). Call ``refresh(cache:)`` first for current
    /// cache and pool values; `GET /metrics` does.
    public func exposition() -> String {
        registry.emitToString()
    }

    /// The `route` label: the template, or `unmatched` (Hummingbird marks unmatched requests
    /// `NotFound`).
    static func routeLabel(_ endpointPath: String?) -> String {
        guard let endpointPath, endpointPath.hasPrefix("/") else { return "unmatched" }
        return endpointPath
    }

    /// The `method` label: a standard method, or `other` (a client may send any token).
    static func methodLabel(_ method: HTTPRequest.Method) -> String {
        switch method {
        case .get, .head, .post, .put, .patch, .delete, .options: method.rawValue
        default: "other"
        }
    }
}

/// The labels of one request series (``BackendMetrics/requestFinished(method:route:status:duration:)``).
private struct RequestSeriesKey: Hashable, Sendable {
    let method: String
    let route: String
    let status: Int
}

/// A label set's counter and histogram.
private struct RequestSeries: Sendable {
    let requests: Counter
    let duration: DurationHistogram
}
