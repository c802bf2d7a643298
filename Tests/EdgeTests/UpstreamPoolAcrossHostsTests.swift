import Testing

@testable import Edge

/// An upstream pool spread over two hosts (docs/SCALING.md, "Several backend hosts"), with
/// 127.0.0.2 and 127.0.0.3 standing in for the hosts: active health checks take the host that
/// goes away out of the pool and put it back when it returns, and no request fails meanwhile.
@Suite("Upstream pool across two hosts", .serialized)
struct UpstreamPoolAcrossHostsTests {
    static func upstreamNames(_ edge: EdgeUnderTest, requests: Int) throws -> [String] {
        let connection = try edge.connect()
        defer { connection.close() }
        return try (0..<requests).map { _ in
            let response = try connection.request("GET", "/echo")
            guard response.status == 200, let name = response.header("X-Upstream") else {
                throw TestFailure("expected a 200 from an upstream, got \(response.status)")
            }
            return name
        }
    }

    /// Listens on `port` again, retrying for a while should the old socket not be released yet.
    static func restart(name: String, host: String, port: Int) async throws -> TestUpstream {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            do {
                return try await TestUpstream.start(name: name, host: host, port: port)
            } catch where ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    @Test func healthChecksTakeAHostOutAndBringItBack() async throws {
        let hostA = try await TestUpstream.start(name: "host-a", host: "127.0.0.2")
        // Host B goes away and comes back on its port: one no other test's socket can take meanwhile.
        var hostB = try await TestUpstream.start(name: "host-b", host: "127.0.0.3", port: try portBelowEphemeralRange(host: "127.0.0.3"))
        // max_fails: 0 leaves the decisions to the active checks alone.
        let yaml = EdgeYAML.proxying(
            to: [EdgeYAML.server(hostA.address, "max_fails: 0"), EdgeYAML.server(hostB.address, "max_fails: 0")],
            options: ["health_check: {path: /echo, interval: 1s, timeout: 900ms, fall: 1, rise: 1}", "max_retries: 1"])
        let up = "edge_upstream_up{upstream=\"app\",server=\"\(hostB.address)\"}"
        do {
            try await check(yaml: yaml, up: up, hostA: hostA, hostB: &hostB)
        } catch {
            await hostA.stop()
            await hostB.stop()
            throw error
        }
        await hostA.stop()
        await hostB.stop()
    }

    func check(yaml: EdgeYAML, up: String, hostA: TestUpstream, hostB: inout TestUpstream) async throws {
        try await withEdge(yaml: yaml) { edge in
            // Both hosts serve (awaited: on a loaded machine a probe can overrun its 900 ms and,
            // with fall: 1, take a host out until the next one).
            try await eventually("both hosts to serve", timeout: .seconds(30)) {
                Set(try Self.upstreamNames(edge, requests: 4)) == ["host-a", "host-b"]
            }

            await hostB.stop()
            try await eventually("the checks to take host B out", timeout: .seconds(30)) {
                metricValue(try edge.metrics(), up) == 0
            }
            // Everything goes to host A, and nothing fails.
            #expect(Set(try Self.upstreamNames(edge, requests: 6)) == ["host-a"])

            hostB = try await Self.restart(name: "host-b", host: "127.0.0.3", port: hostB.port)
            try await eventually("the checks to bring host B back", timeout: .seconds(30)) {
                metricValue(try edge.metrics(), up) == 1
            }
            try await eventually("host B to serve again", timeout: .seconds(30)) {
                Set(try Self.upstreamNames(edge, requests: 4)) == ["host-a", "host-b"]
            }
        }
    }
}
