import Foundation
import Testing

@testable import Edge

/// A test configuration, rendered to the YAML the edge loads: a loopback listener on port 0, an
/// admin listener on port 0, two event loops, short client timeouts and logging off, plus
/// whatever upstreams, routes and limits the test gives.
struct EdgeYAML {
    struct Upstream {
        var name: String
        /// Each a quoted address (`"127.0.0.1:8000"`) or a flow mapping (`{address: "…", weight: 3}`).
        var servers: [String]
        /// Extra keys of the upstream (`read_timeout: 500ms`).
        var options: [String] = []
    }

    var upstreams: [Upstream] = []
    /// Each a flow mapping, e.g. `{prefix: /, proxy: app}`.
    var routes: [String] = []
    var limits = "{}"
    var timeouts = "{client_header: 1s, client_body: 1s, keepalive: 1s, send: 2s, shutdown_grace: 1s}"
    var trustedProxies = "[]"
    var logging = "{access_log: \"off\", error_log: \"off\"}"
    var headers: String?

    /// One upstream `app` with the given servers, proxied at `/`.
    static func proxying(to servers: [String], options: [String] = [], limits: String = "{}") -> EdgeYAML {
        var yaml = EdgeYAML()
        yaml.upstreams = [Upstream(name: "app", servers: servers, options: options)]
        yaml.routes = ["{prefix: /, proxy: app}"]
        yaml.limits = limits
        return yaml
    }

    /// A server entry for an upstream's `servers:` list.
    static func server(_ address: String, _ options: String = "") -> String {
        options.isEmpty ? "\"\(address)\"" : "{address: \"\(address)\", \(options)}"
    }

    var text: String {
        var lines = [
            "listeners:",
            "  - name: public",
            "    address: 127.0.0.1:0",
            "admin:",
            "  address: 127.0.0.1:0",
            "event_loops: 2",
            "timeouts: \(timeouts)",
            "limits: \(limits)",
            "trusted_proxies: \(trustedProxies)",
            "logging: \(logging)",
        ]
        if let headers { lines.append("headers: \(headers)") }
        if !upstreams.isEmpty {
            lines.append("upstreams:")
            for upstream in upstreams {
                lines.append("  \(upstream.name):")
                for option in upstream.options { lines.append("    \(option)") }
                lines.append("    servers:")
                for server in upstream.servers { lines.append("      - \(server)") }
            }
        }
        lines.append("routes:")
        for route in routes { lines.append("  - \(route)") }
        return lines.joined(separator: "\n") + "\n"
    }

    func config() throws -> EdgeConfig {
        try ConfigLoader.parse(yaml: text, source: "test.yaml", environment: [:])
    }
}

/// An edge started in this process for one test.
struct EdgeUnderTest {
    let server: EdgeServer
    /// The public listener's port.
    let port: Int
    let adminPort: Int?

    /// A new client connection to the public listener.
    func connect() throws -> RawHTTPConnection { try RawHTTPConnection(port: port) }

    /// One request on a new connection, which is closed afterwards.
    func request(
        _ method: String = "GET", _ target: String, headers: [(String, String)] = [], body: [UInt8] = [],
        timeout: Duration = .seconds(5)
    ) throws -> RawResponse {
        let connection = try connect()
        defer { connection.close() }
        return try connection.request(method, target, headers: headers, body: body, timeout: timeout)
    }

    /// The admin listener's `/metrics` text.
    func metrics() throws -> String {
        guard let adminPort else { throw TestFailure("the edge has no admin listener") }
        let connection = try RawHTTPConnection(port: adminPort)
        defer { connection.close() }
        let response = try connection.request("GET", "/metrics")
        guard response.status == 200 else { throw TestFailure("/metrics answered \(response.status)") }
        return response.text
    }
}

/// Starts an edge from `yaml` on loopback.
func startEdge(_ yaml: EdgeYAML) async throws -> EdgeUnderTest {
    try await startEdge(config: try yaml.config())
}

/// Starts an edge from `config` (a test's YAML changed in code, e.g. its listeners).
func startEdge(config: EdgeConfig) async throws -> EdgeUnderTest {
    let server = try await EdgeServer.start(config: config)
    guard let port = server.listenerAddresses.first?.port else {
        await server.shutdown(grace: .seconds(1))
        throw TestFailure("the edge has no listener address")
    }
    return EdgeUnderTest(server: server, port: port, adminPort: server.adminAddress?.port)
}

/// Runs `body` against an edge started from `yaml`, and always shuts the edge down afterwards.
func withEdge<T>(yaml: EdgeYAML, _ body: (EdgeUnderTest) async throws -> T) async throws -> T {
    try await withEdge(config: try yaml.config(), body)
}

/// Runs `body` against an edge started from `config`, and always shuts the edge down afterwards.
func withEdge<T>(config: EdgeConfig, _ body: (EdgeUnderTest) async throws -> T) async throws -> T {
    let edge = try await startEdge(config: config)
    do {
        let result = try await body(edge)
        await edge.server.shutdown(grace: .seconds(1))
        return result
    } catch {
        await edge.server.shutdown(grace: .seconds(1))
        throw error
    }
}

/// Polls `condition` until it holds, failing after `timeout`: the way to wait for something that
/// happens elsewhere (an upstream receiving a request, a port closing) without guessing a sleep.
func eventually(
    _ what: String, timeout: Duration = .seconds(5), interval: Duration = .milliseconds(5),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TestFailure("timed out after \(timeout) waiting for \(what)") }
        try await Task.sleep(for: interval)
    }
}

/// The resident set size of this process in bytes (Linux), to check the edge does not buffer
/// whole bodies: it runs in this process.
func residentSetBytes() throws -> Int {
    let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
        let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    else { throw TestFailure("no VmRSS in /proc/self/status") }
    return kilobytes * 1024
}

/// The value of a Prometheus sample line `name{labels} value`, or `nil` when it is absent.
func metricValue(_ metrics: String, _ series: String) -> Double? {
    for line in metrics.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1))
    }
    return nil
}

/// Runs blocking socket or process I/O (a ``RawHTTPConnection`` read of many megabytes, a `curl`
/// run) on a thread of its own: on the concurrency pool, which has one thread per core, it
/// would stall every other test's awaits for as long as it blocks.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

