import Foundation
import NIOCore
import Testing

@testable import Edge

/// The client timeouts and the per-client connection cap on HTTPS connections, checked against a
/// plain-HTTP listener of the same edge: TLS must not be a way around them.
@Suite("TLS client timeouts and connection limits on loopback")
struct TLSClientTimeoutsAndLimitsTests {
    /// An HTTPS listener (0) and a plain one (1), with a 1 s `client_header` timeout.
    static func shortHeaderTimeout(_ directory: TLSTestDirectory, _ upstream: TLSTestUpstream) throws -> EdgeConfig {
        let a = try directory.makeCertificate("a.test")
        var config = try TLSTestConfig.make(
            upstream: upstream,
            listeners: [TLSTestConfig.https(certificates: [a.config(serverNames: ["a.test"])]), TLSTestConfig.plain()])
        // Short enough to wait for, long enough that a client on a fully loaded machine (the
        // whole suite runs in parallel on two cores) still sends its bytes before it fires.
        config.timeouts.header = .seconds(3)
        return config
    }

    @Test func aTcpClientThatNeverStartsTheHandshakeIsClosedAfterTheHeaderTimeout() async throws {
        try await withTLSEdge(Self.shortHeaderTimeout) { edge, _, _ in
            let silent = try await TLSTestConnection.connect(port: try edge.port(0), tls: nil, raw: true)
            try await tlsEventually("the edge to close a connection that never sent a ClientHello", timeout: .seconds(15)) {
                silent.isClosed
            }
            await silent.close()
            try await tlsEventually("the handshake timeout to be counted") {
                tlsMetricValue(try await edge.metrics(), "edge_tls_handshake_failures_total{reason=\"timeout\"}") == 1
            }
        }
    }

    @Test(arguments: [0, 1])
    func aClientThatSendsNoRequestAfterConnectingIsClosedAfterTheHeaderTimeout(listener: Int) async throws {
        try await withTLSEdge(Self.shortHeaderTimeout) { edge, _, _ in
            let tls: TLSClientOptions? = listener == 0 ? TLSClientOptions() : nil
            let idle = try await TLSTestConnection.connect(port: try edge.port(listener), tls: tls, raw: true)
            do {
                try await tlsEventually(
                    "the edge to close a \(listener == 0 ? "TLS" : "plain") connection with no request", timeout: .seconds(15)
                ) { idle.isClosed }
            } catch {
                Issue.record("\(error)")
            }
            await idle.close()
        }
    }

    @Test(arguments: [0, 1])
    func aClientThatTricklesARequestHeadGets408(listener: Int) async throws {
        try await withTLSEdge(Self.shortHeaderTimeout) { edge, _, _ in
            let tls: TLSClientOptions? = listener == 0 ? TLSClientOptions() : nil
            // The half head must arrive within the header timeout of the connection's opening, or
            // the edge rightly closes an idle connection without a 408: a test descheduled that
            // long on a loaded machine connects again (the edge's answer is what is under test).
            var slow = try await TLSTestConnection.connect(port: try edge.port(listener), tls: tls, raw: true)
            for _ in 1..<5 {
                do {
                    try await slow.writeRaw("GET /app/slowloris HTTP/1.1\r\nHost: a.test\r\n")
                    break
                } catch {
                    await slow.close()
                    slow = try await TLSTestConnection.connect(port: try edge.port(listener), tls: tls, raw: true)
                }
            }
            do {
                try await tlsEventually(
                    "a 408 and a close on a \(listener == 0 ? "TLS" : "plain") connection whose head never ends",
                    // Far above the header timeout: while the whole parallel suite starts, the
                    // loopback edge and this test can be descheduled for 20 s.
                    timeout: .seconds(60)
                ) { slow.isClosed }
            } catch {
                Issue.record("\(error)")
                // Finish the head before closing: an edge that kept waiting would otherwise see a
                // half head at EOF, which crashes the whole process (see
                // `aRefusedRequestHeadDoesNotCrashTheEdge`).
                try? await slow.writeRaw("Connection: close\r\n\r\n")
                try? await tlsEventually("the late request to be answered") { slow.isClosed }
            }
            #expect(slow.rawReceived.hasPrefix("HTTP/1.1 408"), "received: \(slow.rawReceived.prefix(80))")
            await slow.close()
        }
    }

    /// A request head the edge must refuse with `400` (cut short by the client's close, or
    /// malformed) is answered below the HTTP layer: through it, the response compressor (which has
    /// seen no request head) used to trap and take the whole process down, over TLS and plain
    /// HTTP alike.
    @Test(
        arguments: [0, 1], [
            "GET /app/half HTTP/1.1\r\nHost: a.test\r\n",
            "GET /app/bad HTTP/1.1\r\nHost: a.test\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        ])
    func aRefusedRequestHeadDoesNotCrashTheEdge(listener: Int, head: String) async throws {
        try await withTLSEdge({ directory, upstream in
            // Not about the header timeout: under the whole suite a short one could close the
            // connection before the client writes its first byte.
            var config = try Self.shortHeaderTimeout(directory, upstream)
            config.timeouts.header = .seconds(60)
            return config
        }) { edge, _, _ in
            let tls: TLSClientOptions? = listener == 0 ? TLSClientOptions() : nil
            let client = try await TLSTestConnection.connect(port: try edge.port(listener), tls: tls, raw: true)
            try await client.writeRaw(head)
            await client.close()
            // Still alive: a new connection is served.
            let response = try await tlsRequest(port: try edge.port(listener), tls, .GET, "/app/alive")
            #expect(response.status == 200)
        }
    }

    @Test func theConnectionCapPerClientCountsHttpsConnections() async throws {
        try await withTLSEdge({ directory, upstream in
            var config = try Self.shortHeaderTimeout(directory, upstream)
            // The connections wait for their first request while the others open and are counted:
            // on a loaded machine (the whole suite in parallel) that took over 5 s, and the header
            // timeout closed two of them. This test is about the cap, not the timeout.
            config.timeouts.header = .seconds(60)
            config.limits.connectionsPerClient = 2
            return config
        }) { edge, _, _ in
            let port = try edge.port(0)
            var open: [TLSTestConnection] = []
            do {
                for _ in 0..<3 { open.append(try await TLSTestConnection.connect(port: port, tls: TLSClientOptions())) }
                try await tlsEventually("the open HTTPS connections to be counted") {
                    tlsMetricValue(try await edge.metrics(), "edge_open_connections") == 3
                }
            } catch {
                Issue.record("\(error)")
            }
            var statuses: [Int] = []
            for connection in open {
                statuses.append((try? await connection.request(.GET, "/app/capped").status) ?? 0)
            }
            #expect(statuses.sorted() == [200, 200, edge.config.limits.connectionLimitStatus], "statuses \(statuses)")
            for connection in open { await connection.close() }
        }
    }
}
