import EdgeRules
import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import Edge

#if canImport(Glibc)
import Glibc
#endif

/// The retry table, row by row.
@Suite("Upstream retry policy")
struct UpstreamRetryPolicyTests {
    typealias Policy = UpstreamRetryPolicy

    static func request(idempotent: Bool = true, replayable: Bool = true, started: Bool = false, staleRetryUsed: Bool = false)
        -> Policy.Request
    {
        .init(idempotent: idempotent, replayable: replayable, responseStarted: started, staleRetryUsed: staleRetryUsed)
    }

    @Test(arguments: [
        (Policy.Failure.connectFailed, request(idempotent: false, replayable: false), Policy.Decision.nextServer(strike: true)),
        (.connectTimedOut, request(idempotent: false, replayable: false), .nextServer(strike: true)),
        (.closedBeforeResponse(reusedConnection: true), request(), .reconnect),
        (.closedBeforeResponse(reusedConnection: true), request(staleRetryUsed: true), .fail(status: 502, strike: false)),
        (.closedBeforeResponse(reusedConnection: true), request(idempotent: false), .fail(status: 502, strike: false)),
        (.closedBeforeResponse(reusedConnection: true), request(replayable: false), .fail(status: 502, strike: false)),
        (.closedBeforeResponse(reusedConnection: false), request(), .nextServer(strike: true)),
        (.closedBeforeResponse(reusedConnection: false), request(idempotent: false), .fail(status: 502, strike: true)),
        (.closedBeforeResponse(reusedConnection: false), request(replayable: false), .fail(status: 502, strike: true)),
        (.readTimedOut, request(), .fail(status: 504, strike: true)),
        (.sendTimedOut, request(), .fail(status: 504, strike: true)),
        (.connectFailed, request(started: true), .broken(strike: true)),
        (.closedBeforeResponse(reusedConnection: true), request(started: true), .broken(strike: false)),
        (.readTimedOut, request(started: true), .broken(strike: true)),
    ])
    func eachFailureHasOneDecision(failure: Policy.Failure, request: Policy.Request, decision: Policy.Decision) {
        #expect(Policy.decide(failure, request) == decision)
    }
}

/// The retry rules and upstream timeouts on the wire.
@Suite("Upstream retries and timeouts on loopback", .serialized)
struct UpstreamRetryIntegrationTests {
    /// A listener whose accept queue is full and never drained: a connect to it gets no answer
    /// (Linux drops the SYN), so it can only time out.
    final class BlackHole {
        let port: Int
        private var descriptors: [Int32] = []

        init() throws {
            let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard listen(listener, 0) == 0 else { throw TestFailure("listen failed") }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
            }
            port = Int(UInt16(bigEndian: address.sin_port))
            descriptors.append(listener)
            // Fill the accept queue (backlog 0 holds one) with connections nobody accepts.
            for _ in 0..<2 {
                let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
                _ = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                descriptors.append(client)
            }
        }

        deinit { descriptors.forEach { close($0) } }
    }

    @Test func aConnectTimeoutIsRetriedOnTheNextServer() async throws {
        let hole = try BlackHole()
        try await withUpstreams(["good"]) { upstreams in
            let yaml = EdgeYAML.proxying(
                to: [EdgeYAML.server("127.0.0.1:\(hole.port)"), EdgeYAML.server(upstreams[0].address)],
                options: ["connect_timeout: 300ms", "balance: round_robin"])
            try await withEdge(yaml: yaml) { edge in
                // Round robin sends one of the first two requests to the black hole first.
                for _ in 0..<2 {
                    let response = try edge.request("GET", "/echo", timeout: .seconds(10))
                    #expect(response.status == 200)
                    #expect(response.header("X-Upstream") == "good")
                }
                let metrics = try edge.metrics()
                #expect(metricValue(metrics, "edge_upstream_failures_total{upstream=\"app\"}") == 1, "the timeout is a strike")
            }
        }
    }

    @Test
    func aReusedConnectionClosedBeforeAnyByteIsRetriedWithoutAStrike() async throws {
        try await withUpstreams(["a"]) { upstreams in
            let yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address, "max_fails: 1")])
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                #expect(try connection.request("GET", "/echo").status == 200)  // leaves a pooled connection
                // The upstream drops the pooled connection when the next request arrives on it.
                let response = try connection.request("GET", "/close-if-reused")
                #expect(response.status == 200, "answered on a new connection")
                #expect(upstreams[0].connectionsAccepted == 2)
                let metrics = try edge.metrics()
                #expect(metricValue(metrics, "edge_upstream_failures_total{upstream=\"app\"}") == nil, "no strike")
                #expect(metricValue(metrics, "edge_upstream_up{upstream=\"app\",server=\"\(upstreams[0].address)\"}") == 1)
            }
        }
    }

    @Test func theUpstreamSendTimeoutAnswers504WhenTheUpstreamStopsReading() async throws {
        // An upstream that accepts and never reads a byte.
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.socketOption(.so_rcvbuf), value: 4096)
            .bind(host: "127.0.0.1", port: 0).get()
        defer { channel.close(promise: nil) }
        let port = try #require(channel.localAddress?.port)
        var yaml = EdgeYAML.proxying(to: [EdgeYAML.server("127.0.0.1:\(port)")], options: ["send_timeout: 500ms", "read_timeout: 30s"])
        yaml.timeouts = "{client_header: 10s, client_body: 30s, keepalive: 10s, send: 10s, shutdown_grace: 1s}"
        try await withEdge(yaml: yaml) { edge in
            let connection = try edge.connect()
            defer { connection.close() }
            let started = ContinuousClock.now
            try connection.sendRequest("POST", "/upload", body: [UInt8](repeating: 0x61, count: 8 * 1024 * 1024))
            let response = try connection.readResponse(timeout: .seconds(20))
            #expect(response.status == 504)
            #expect(ContinuousClock.now - started < .seconds(15), "the send timeout, not the read timeout, ended it")
        }
    }

    @Test func aServerWhoseAnswersTheProxyRefusesFailsItsHealthCheckToo() async throws {
        // Every answer has two different Content-Lengths: the proxy refuses it (502), and the
        // probe, read by the same parser, marks the server down.
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(MalformedAnswerer())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { channel.close(promise: nil) }
        let port = try #require(channel.localAddress?.port)
        let address = "127.0.0.1:\(port)"
        let yaml = EdgeYAML.proxying(
            to: [EdgeYAML.server(address, "max_fails: 0")],
            options: ["health_check: {path: /health, interval: 200ms, timeout: 150ms, fall: 1, rise: 1}"])
        try await withEdge(yaml: yaml) { edge in
            #expect(try edge.request("GET", "/anything").status == 502)
            try await eventually("the probe to mark the server down") {
                metricValue(try edge.metrics(), "edge_upstream_up{upstream=\"app\",server=\"\(address)\"}") == 0
            }
        }
    }

    /// Answers every request with a response that has two different Content-Lengths.
    final class MalformedAnswerer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer)), promise: nil)
        }
    }
}

/// A reload changes the per-client connection cap, whatever changes in it.
@Suite("Connection cap on reload", .serialized)
struct ReloadConnectionCapTests {
    @Test func aReloadTurnsTheCapOffAndOnAndChangesIt() async throws {
        try await withUpstreams(["a"]) { upstreams in
            var yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)], limits: "{connections_per_client: 2}")
            try await withEdge(yaml: yaml) { edge in
                /// Two connections, then the status a third one gets; returns once the edge has
                /// seen all three close (so the next round starts from no open connection).
                func statusOfAThirdConnection() async throws -> Int {
                    let first = try edge.connect()
                    let second = try edge.connect()
                    #expect(try first.request("GET", "/echo").status == 200)
                    #expect(try second.request("GET", "/echo").status == 200)
                    let status = try edge.request("GET", "/echo").status
                    first.close()
                    second.close()
                    try await eventually("the edge to see the connections close") {
                        (try edge.metrics()).contains("edge_open_connections 0")
                    }
                    return status
                }
                #expect(try await statusOfAThirdConnection() == 503)

                yaml.limits = "{connections_per_client: off}"
                try edge.server.reload(try yaml.config())
                #expect(try await statusOfAThirdConnection() == 200, "the cap is off")

                yaml.limits = "{connections_per_client: 2, connection_table_capacity: 100}"
                try edge.server.reload(try yaml.config())
                #expect(try await statusOfAThirdConnection() == 503, "the cap is back, with its new table")

                yaml.limits = "{connections_per_client: 3, connection_table_capacity: 100}"
                try edge.server.reload(try yaml.config())
                #expect(try await statusOfAThirdConnection() == 200, "a higher limit applies in place")
            }
        }
    }
}
