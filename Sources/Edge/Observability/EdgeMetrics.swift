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
    static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

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
    }

    struct Shard {
        var requests: [RequestKey: Int] = [:]
        var durations: [String: Histogram] = [:]
        var rateLimited: [String: Int] = [:]
        var connectionLimited = 0
        var upstreamFailures: [String: Int] = [:]
        var handshakes: [String: Int] = [:]
        var handshakeFailures: [String: Int] = [:]
    }

    final class LockedShard: Sendable {
        let state = Mutex(Shard())
    }

    private let shards: [LockedShard]
    let openConnections = Atomic<Int>(0)
    let reloadsSucceeded = Atomic<Int>(0)
    let reloadsFailed = Atomic<Int>(0)

    /// - Parameter shardCount: one per event loop.
    public init(shardCount: Int) {
        shards = (0..<max(1, shardCount)).map { _ in LockedShard() }
    }

    func withShard<T>(_ index: Int, _ body: (inout Shard) -> T) -> T {
        shards[index % shards.count].state.withLock { body(&$0) }
    }

    /// Counts one finished request.
    func recordRequest(shard: Int, route: String, method: String, status: Int, seconds: Double) {
        let method = Self.methods.contains(method) ? method : "OTHER"
        withShard(shard) { shard in
            shard.requests[RequestKey(route: route, method: method, status: status), default: 0] += 1
            shard.durations[route, default: Histogram()].observe(seconds)
        }
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

    func recordHandshake(shard: Int, protocol name: String) {
        withShard(shard) { $0.handshakes[name, default: 0] += 1 }
    }

    func recordHandshakeFailure(shard: Int, reason: String) {
        withShard(shard) { $0.handshakeFailures[reason, default: 0] += 1 }
    }

    /// The Prometheus text exposition of everything, plus the upstream gauges of `clusters`.
    func render(clusters: [Cluster], now: UInt64) -> String {
        var total = Shard()
        for shard in shards {
            shard.state.withLock { part in
                total.requests.merge(part.requests, uniquingKeysWith: +)
                for (route, histogram) in part.durations { total.durations[route, default: Histogram()].merge(histogram) }
                total.rateLimited.merge(part.rateLimited, uniquingKeysWith: +)
                total.connectionLimited += part.connectionLimited
                total.upstreamFailures.merge(part.upstreamFailures, uniquingKeysWith: +)
                total.handshakes.merge(part.handshakes, uniquingKeysWith: +)
                total.handshakeFailures.merge(part.handshakeFailures, uniquingKeysWith: +)
            }
        }
        var out = ""
        out += "# HELP http_requests_total Requests answered, by route, method and status.\n"
        out += "# TYPE http_requests_total counter\n"
        for (key, value) in total.requests.sorted(by: { ($0.key.route, $0.key.method, $0.key.status) < ($1.key.route, $1.key.method, $1.key.status) }) {
            out += "http_requests_total{route=\"\(escape(key.route))\",method=\"\(key.method)\",status=\"\(key.status)\"} \(value)\n"
        }
        out += "# HELP http_request_duration_seconds Time from the request head to the last byte of the response.\n"
        out += "# TYPE http_request_duration_seconds histogram\n"
        for (route, histogram) in total.durations.sorted(by: { $0.key < $1.key }) {
            var cumulative = 0
            for (index, bound) in Self.buckets.enumerated() {
                cumulative += histogram.counts[index]
                out += "http_request_duration_seconds_bucket{route=\"\(escape(route))\",le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "http_request_duration_seconds_bucket{route=\"\(escape(route))\",le=\"+Inf\"} \(histogram.count)\n"
            out += "http_request_duration_seconds_sum{route=\"\(escape(route))\"} \(histogram.sum)\n"
            out += "http_request_duration_seconds_count{route=\"\(escape(route))\"} \(histogram.count)\n"
        }
        out += "# HELP edge_rate_limit_rejections_total Requests refused by a rate limit zone.\n"
        out += "# TYPE edge_rate_limit_rejections_total counter\n"
        for (zone, value) in total.rateLimited.sorted(by: { $0.key < $1.key }) {
            out += "edge_rate_limit_rejections_total{zone=\"\(escape(zone))\"} \(value)\n"
        }
        out += "# HELP edge_connection_limit_rejections_total Connections refused by the per-client connection cap.\n"
        out += "# TYPE edge_connection_limit_rejections_total counter\n"
        out += "edge_connection_limit_rejections_total \(total.connectionLimited)\n"
        out += "# HELP edge_open_connections Client connections open now.\n"
        out += "# TYPE edge_open_connections gauge\n"
        out += "edge_open_connections \(openConnections.load(ordering: .relaxed))\n"
        out += "# HELP edge_upstream_failures_total Failed attempts to reach an upstream server (connect errors, resets, timeouts).\n"
        out += "# TYPE edge_upstream_failures_total counter\n"
        for (upstream, value) in total.upstreamFailures.sorted(by: { $0.key < $1.key }) {
            out += "edge_upstream_failures_total{upstream=\"\(escape(upstream))\"} \(value)\n"
        }
        out += "# HELP edge_upstream_in_flight Requests in flight to each upstream server.\n"
        out += "# TYPE edge_upstream_in_flight gauge\n"
        for cluster in clusters {
            for server in cluster.servers {
                out += "edge_upstream_in_flight{upstream=\"\(escape(cluster.name))\",server=\"\(escape(server.config.address.description))\"} \(server.inFlight.load(ordering: .relaxed))\n"
            }
        }
        out += "# HELP edge_upstream_up Whether each upstream server takes requests (1) or is marked down (0).\n"
        out += "# TYPE edge_upstream_up gauge\n"
        for cluster in clusters {
            for server in cluster.servers {
                out += "edge_upstream_up{upstream=\"\(escape(cluster.name))\",server=\"\(escape(server.config.address.description))\"} \(server.isAvailable(now: now) ? 1 : 0)\n"
            }
        }
        out += "# HELP edge_tls_handshakes_total Completed TLS handshakes, by negotiated protocol.\n"
        out += "# TYPE edge_tls_handshakes_total counter\n"
        for (name, value) in total.handshakes.sorted(by: { $0.key < $1.key }) {
            out += "edge_tls_handshakes_total{protocol=\"\(name)\"} \(value)\n"
        }
        out += "# HELP edge_tls_handshake_failures_total Failed TLS handshakes, by reason.\n"
        out += "# TYPE edge_tls_handshake_failures_total counter\n"
        for (reason, value) in total.handshakeFailures.sorted(by: { $0.key < $1.key }) {
            out += "edge_tls_handshake_failures_total{reason=\"\(reason)\"} \(value)\n"
        }
        out += "# HELP edge_config_reloads_total Configuration reloads, by result.\n"
        out += "# TYPE edge_config_reloads_total counter\n"
        out += "edge_config_reloads_total{result=\"success\"} \(reloadsSucceeded.load(ordering: .relaxed))\n"
        out += "edge_config_reloads_total{result=\"failure\"} \(reloadsFailed.load(ordering: .relaxed))\n"
        return out
    }

    private func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
