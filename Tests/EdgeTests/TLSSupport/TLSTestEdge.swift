import NIOCore
import NIOPosix

@testable import Edge

/// Builds the configurations of the TLS tests: the routes, upstream, limits and timeouts come
/// from YAML (``ConfigLoader``), the listeners are set in code.
enum TLSTestConfig {
    /// A configuration proxying `/app/`, `/limited/` (1 request a minute, no burst) and
    /// `/spaced/` (4 a second, a burst of 5 delayed: `limit_req` without `nodelay`) and
    /// `/waiting/` (1 a minute, a burst of 5 delayed: a request after the first waits a minute) to
    /// `upstream`, with the given listeners, an admin listener, and logging off. The header and
    /// keep-alive timeouts are long: with the whole suite running in parallel on two cores, a test
    /// may not get to send its first request for many seconds, and a connection the edge closed
    /// for it fails the test ("I/O on closed channel"). Tests of those timeouts set their own.
    static func make(upstream: TLSTestUpstream, listeners: [ListenerConfig]) throws -> EdgeConfig {
        let yaml = """
            listeners:
              - name: placeholder
                address: 127.0.0.1:0
            admin:
              address: 127.0.0.1:0
            event_loops: 2
            timeouts: {client_header: 60s, client_body: 5s, keepalive: 60s, send: 5s, shutdown_grace: 1s}
            limits: {connections_per_client: 1000, zones: {tight: {rate: 1r/m, capacity: 100}, spaced: {rate: 4r/s, capacity: 100}, slow: {rate: 1r/m, capacity: 100}}}
            logging: {access_log: "off", error_log: "off"}
            upstreams:
              app:
                servers:
                  - "\(upstream.address)"
            routes:
              - {prefix: /app/, proxy: app}
              - {prefix: /limited/, proxy: app, rate_limit: {zone: tight, burst: 0, nodelay: true}}
              - {prefix: /spaced/, proxy: app, rate_limit: {zone: spaced, burst: 5, nodelay: false}}
              - {prefix: /waiting/, proxy: app, rate_limit: {zone: slow, burst: 5, nodelay: false}}

            """
        var config = try ConfigLoader.parse(yaml: yaml, source: "tls-test.yaml", environment: [:])
        config.listeners = listeners
        return config
    }

    /// An HTTPS listener on a kernel-chosen loopback port.
    static func https(
        _ name: String = "https", certificates: [TLSCertificateConfig], http2: Bool = true
    ) -> ListenerConfig {
        var tls = TLSListenerConfig(certificates: certificates)
        tls.http2 = http2
        return ListenerConfig(name: name, address: .tcp(host: "127.0.0.1", port: 0), tls: tls)
    }

    /// A plain-HTTP listener on a kernel-chosen loopback port.
    static func plain(_ name: String = "plain") -> ListenerConfig {
        ListenerConfig(name: name, address: .tcp(host: "127.0.0.1", port: 0))
    }
}

/// An edge running in this process for one test.
struct TLSTestEdge {
    let server: EdgeServer
    let config: EdgeConfig

    /// The port of listener `index` (in configuration order).
    func port(_ index: Int = 0) throws -> Int {
        let addresses = server.listenerAddresses
        guard index < addresses.count, let port = addresses[index].port else {
            throw TLSTestFailure("the edge has no listener \(index) (addresses: \(addresses))")
        }
        return port
    }

    /// The admin listener's `/metrics` text.
    func metrics() async throws -> String {
        guard let port = server.adminAddress?.port else { throw TLSTestFailure("the edge has no admin listener") }
        let connection = try await TLSTestConnection.connect(port: port, tls: nil)
        let response: TLSTestResponse
        do {
            response = try await connection.request(.GET, "/metrics", host: "127.0.0.1")
            await connection.close()
        } catch {
            await connection.close()
            throw error
        }
        guard response.status == 200 else { throw TLSTestFailure("/metrics answered \(response.status)") }
        return response.body
    }
}

/// Runs `body` with a fresh test directory and upstream, an edge started from
/// `configure(directory, upstream)`, and always stops all three afterwards.
func withTLSEdge<T>(
    _ configure: (TLSTestDirectory, TLSTestUpstream) throws -> EdgeConfig,
    _ body: (TLSTestEdge, TLSTestDirectory, TLSTestUpstream) async throws -> T
) async throws -> T {
    let directory = try TLSTestDirectory()
    defer { directory.remove() }
    let upstream = try await TLSTestUpstream.start(name: "app")
    let server: EdgeServer
    let config: EdgeConfig
    do {
        config = try configure(directory, upstream)
        server = try await EdgeServer.start(config: config)
    } catch {
        await upstream.stop()
        throw error
    }
    let edge = TLSTestEdge(server: server, config: config)
    do {
        let result = try await body(edge, directory, upstream)
        await server.shutdown(grace: .milliseconds(500))
        await upstream.stop()
        return result
    } catch {
        await server.shutdown(grace: .milliseconds(500))
        await upstream.stop()
        throw error
    }
}

/// The value of a Prometheus sample `series` (`name{labels}`) in `metrics`, or 0 when absent.
func tlsMetricValue(_ metrics: String, _ series: String) -> Double {
    for line in metrics.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1)) ?? 0
    }
    return 0
}
