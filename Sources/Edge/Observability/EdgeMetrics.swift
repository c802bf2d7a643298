import Limits
import Synchronization

/// The edge's Prometheus metrics.
///
/// Request counters and latency histograms are kept per event loop (a shard each), so recording
/// a request takes an uncontended lock; a scrape adds the shards up. Labels are bounded: the
/// route label is the route's prefix from the configuration, methods outside the standard set
/// count as `OTHER`, and no client address, raw path or ID is ever a label.
public final class EdgeMetrics: Sendable {
    /// Upper bounds of the latency histogram buckets, in seconds.
    static let buckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
    /// A method's label: the standard ones as they are, any other `OTHER` (a bounded label set).
    /// A switch rather than a set: comparing short strings costs less than hashing one.
    static func label(method: String) -> String {
        switch method {
        case "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS": method
        default: "OTHER"
        }
    }

    struct RequestKey: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    struct Histogram {
        var counts = [Int](repeating: 0, count: EdgeMetrics.buckets.count)
        var sum: Double = 0
        var count = 0

        mutating func observe(_ seconds: Double) {
            if let bucket = EdgeMetrics.buckets.firstIndex(where: { seconds <= $0 }) { counts[bucket] += 1 }
            sum += seconds
            count += 1
        }

        mutating func merge(_ other: Histogram) {
            for index in counts.indices { counts[index] += other.counts[index] }
            sum += other.sum
            count += other.count
        }

        /// Back to empty, keeping its storage.
        mutating func reset() {
            for index in counts.indices { counts[index] = 0 }
            sum = 0
            count = 0
        }
    }

    /// The latest requests while they share one series (route, method, status), as most
    /// consecutive requests do: counting one more there costs no hashing of the route and
    /// method strings (three look-ups a request otherwise). Folded into the shard's tables when
    /// the series changes and before a scrape reads them.
    struct RecentSeries {
        var key = RequestKey(route: "", method: "", status: 0)
        var count = 0
        var histogram = Histogram()
    }

    struct Shard {
        var requests: [RequestKey: Int] = [:]
        var durations: [String: Histogram] = [:]
        var rateLimited: [String: Int] = [:]
        var connectionLimited = 0
        var upstreamFailures: [String: Int] = [:]
        var handshakes: [String: Int] = [:]
        var resumedHandshakes = 0
        var handshakeFailures: [String: Int] = [:]
        var recent = RecentSeries()

        mutating func record(_ key: RequestKey, seconds: Double) {
            if recent.key != key {
                fold()
                recent.key = key
            }
            recent.count += 1
            recent.histogram.observe(seconds)
        }

        /// Adds the recent series to the tables.
        mutating func fold() {
            guard recent.count > 0 else { return }
            requests[recent.key, default: 0] += recent.count
            durations[recent.key.route, default: Histogram()].merge(recent.histogram)
            recent.count = 0
            recent.histogram.reset()
        }
    }

    final class LockedShard: Sendable {
        let state = Mutex(Shard())
    }

    private let shards: [LockedShard]
    let openConnections = Atomic<Int>(0)
    /// When each served certificate expires (Unix seconds), by listener and server name; set at
    /// start and on every reload, for the certificate-expiry alert.
    private let certificateExpiry = Mutex<[String: [(serverName: String, notAfter: Int)]]>([:])
    let reloadsSucceeded = Atomic<Int>(0)
    let reloadsFailed = Atomic<Int>(0)
    /// Shared rate-limit zones (their mode, sync failures and latency).
    let sharedZones = SharedZoneMetrics()

    /// - Parameter shardCount: one per event loop.
    public init(shardCount: Int) {
        shards = (0..<max(1, shardCount)).map { _ in LockedShard() }
    }

    func withShard<T>(_ index: Int, _ body: (inout Shard) -> T) -> T {
        shards[index % shards.count].state.withLock { body(&$0) }
    }

    /// Counts one finished request.
    func recordRequest(shard: Int, route: String, method: String, status: Int, seconds: Double) {
        let key = RequestKey(route: route, method: Self.label(method: method), status: status)
        withShard(shard) { $0.record(key, seconds: seconds) }
    }

    func recordRateLimited(shard: Int, zone: String) {
        withShard(shard) { $0.rateLimited[zone, default: 0] += 1 }
    }

    func recordConnectionLimited(shard: Int) {
        withShard(shard) { $0.connectionLimited += 1 }
    }

    func recordUpstreamFailure(shard: Int, upstream: String) {
        withShard(shard) { $0.upstreamFailures[upstream, default: 0] += 1 }
    }

    /// A completed handshake; `resumed`: it resumed a session (a ticket).
    func recordHandshake(shard: Int, protocol name: String, resumed: Bool = false) {
        withShard(shard) {
            $0.handshakes[name, default: 0] += 1
            if resumed { $0.resumedHandshakes += 1 }
        }
    }

    func recordHandshakeFailure(shard: Int, reason: String) {
        withShard(shard) { $0.handshakeFailures[reason, default: 0] += 1 }
    }

    /// The Prometheus text exposition of everything, plus the upstream gauges of `clusters`.
    func render(clusters: [Cluster], now: Instant) -> String {
        var total = Shard()
        for shard in shards {
            shard.state.withLock { part in
                part.fold()
                total.requests.merge(part.requests, uniquingKeysWith: +)
                for (route, histogram) in part.durations { total.durations[route, default: Histogram()].merge(histogram) }
                total.rateLimited.merge(part.rateLimited, uniquingKeysWith: +)
                total.connectionLimited += part.connectionLimited
                total.upstreamFailures.merge(part.upstreamFailures, uniquingKeysWith: +)
                total.handshakes.merge(part.handshakes, uniquingKeysWith: +)
                total.resumedHandshakes += part.resumedHandshakes
                total.handshakeFailures.merge(part.handshakeFailures, uniquingKeysWith: +)
            }
        }
        var out = PrometheusText()
        out.family("http_requests_total", "counter", "Requests answered, by route, method and status.",
            total.requests.sorted { ($0.key.route, $0.key.method, $0.key.status) < ($1.key.route, $1.key.method, $1.key.status) }
                .map { ([("route", $0.key.route), ("method", $0.key.method), ("status", String($0.key.status))], Double($0.value)) })
        out.header("http_request_duration_seconds", "histogram", "Time from the request head to the last byte of the response.")
        for (route, histogram) in total.durations.sorted(by: { $0.key < $1.key }) {
            var cumulative = 0
            for (index, bound) in Self.buckets.enumerated() {
                cumulative += histogram.counts[index]
                out.sample("http_request_duration_seconds_bucket", [("route", route), ("le", "\(bound)")], Double(cumulative))
            }
            out.sample("http_request_duration_seconds_bucket", [("route", route), ("le", "+Inf")], Double(histogram.count))
            out.sample("http_request_duration_seconds_sum", [("route", route)], histogram.sum)
            out.sample("http_request_duration_seconds_count", [("route", route)], Double(histogram.count))
        }
        out.family("edge_rate_limit_rejections_total", "counter", "Requests refused by a rate limit zone.",
            Self.byLabel("zone", total.rateLimited))
        out.family("edge_connection_limit_rejections_total", "counter", "Connections refused by the per-client connection cap.",
            [([], Double(total.connectionLimited))])
        out.family("edge_open_connections", "gauge", "Client connections open now.",
            [([], Double(openConnections.load(ordering: .relaxed)))])
        out.family("edge_upstream_failures_total", "counter",
            "Failed attempts to reach an upstream server (connect errors, resets, timeouts).",
            Self.byLabel("upstream", total.upstreamFailures))
        let servers = clusters.flatMap { cluster in cluster.servers.map { (cluster.name, $0) } }
        out.family("edge_upstream_in_flight", "gauge", "Requests in flight to each upstream server.",
            servers.map { ([("upstream", $0.0), ("server", $0.1.addressText)], Double($0.1.inFlight.load())) })
        out.family("edge_upstream_up", "gauge", "Whether each upstream server takes requests (1) or is marked down (0).",
            servers.map { ([("upstream", $0.0), ("server", $0.1.addressText)], $0.1.isAvailable(now: now) ? 1 : 0) })
        out.family("edge_tls_handshakes_total", "counter", "Completed TLS handshakes, by negotiated protocol.",
            Self.byLabel("protocol", total.handshakes))
        out.family("edge_tls_resumed_handshakes_total", "counter",
            "Completed TLS handshakes that resumed a session (a ticket) instead of a full handshake.",
            [([], Double(total.resumedHandshakes))])
        out.family("edge_tls_handshake_failures_total", "counter", "Failed TLS handshakes, by reason.",
            Self.byLabel("reason", total.handshakeFailures))
        let expiries = certificateExpiry.withLock { $0 }.sorted { $0.key < $1.key }.flatMap { listener, entries in
            entries.map { ([("listener", listener), ("server_name", $0.serverName)], Double($0.notAfter)) }
        }
        out.family("edge_tls_certificate_expiry_timestamp_seconds", "gauge",
            "When each served certificate expires (its notAfter, Unix seconds), by listener and server name.", expiries)
        out.family("edge_config_reloads_total", "counter", "Configuration reloads, by result.", [
            ([("result", "success")], Double(reloadsSucceeded.load(ordering: .relaxed))),
            ([("result", "failure")], Double(reloadsFailed.load(ordering: .relaxed))),
        ])
        sharedZones.render(into: &out)
        return out.text
    }

    /// Records the certificates a TLS listener serves now (replacing what it served before).
    func setCertificates(listener: String, _ entries: [(serverName: String, notAfter: Int)]) {
        certificateExpiry.withLock { $0[listener] = entries }
    }

    private static func byLabel(_ label: String, _ values: [String: Int]) -> [([(String, String)], Double)] {
        values.sorted { $0.key < $1.key }.map { ([(label, $0.key)], Double($0.value)) }
    }
}

/// The Prometheus text exposition format: `# HELP` / `# TYPE` lines and samples with escaped labels.
struct PrometheusText {
    private(set) var text = ""

    mutating func header(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func family(_ name: String, _ type: String, _ help: String, _ samples: [([(String, String)], Double)]) {
        header(name, type, help)
        for (labels, value) in samples { sample(name, labels, value) }
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
        }
        // Counts print as integers, so dashboards and tests read `42`, not `42.0`.
        text += value == value.rounded() && abs(value) < 1e15 ? " \(Int(value))\n" : " \(value)\n"
    }

    private static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
