// The edge's keep-alive HTTP/1.1 path, driven in this process: a fixed-response upstream on the
// I/O core (EdgeIOHello, 600-byte body), the edge in front of it with the benchmark harness's
// configuration (bench/conf/edge.yaml.tmpl: security headers, a rate zone and the per-client
// connection cap on, access log off), and a client on one keep-alive connection that sends a
// request and reads the whole answer into a fixed buffer. Issue 13's per-request budget: heap
// allocations per request (`mallocCountTotal`, counted for the whole process: the edge's loop,
// the upstream's and the client) and wall time per request.
//
// Run from `Benchmarks/`: `swift package benchmark --target EdgeBenchmarks` (release build).

import Benchmark
import Edge
import EdgeIO
import EdgeIOHello

#if canImport(Glibc)
import Glibc
#endif

/// A blocking client socket with its buffers made once: sending a request and reading its
/// answer allocate nothing.
final class KeepAliveClient {
    let fd: Int32
    let request: [UInt8]
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// The answer's size in bytes (the edge's answers to this request are all the same size:
    /// same fields, a request ID of fixed length, the same body).
    var answerSize = 0

    init(port: Int, path: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0, "socket: errno \(errno)")
        self.fd = fd
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        precondition(connected == 0, "connect to the edge: errno \(errno)")
        request = Array("GET \(path) HTTP/1.1\r\nHost: rack.example.test\r\nUser-Agent: edge-benchmark\r\n\r\n".utf8)
        answerSize = firstAnswerSize()
    }

    deinit { close(fd) }

    /// The first answer, read until its head and `Content-Length` body are in: its size.
    private func firstAnswerSize() -> Int {
        send()
        var received = 0
        while true {
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + received, $0.count - received, 0) }
            precondition(got > 0, "the edge closed or failed: \(got), errno \(errno)")
            received += got
            let text = String(decoding: buffer[0..<received], as: UTF8.self)
            guard let headEnd = text.range(of: "\r\n\r\n") else { continue }
            let head = text[..<headEnd.lowerBound]
            precondition(head.hasPrefix("HTTP/1.1 200"), "the edge answered: \(head.prefix(200))")
            let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }
            let size = text.utf8.distance(from: text.utf8.startIndex, to: headEnd.upperBound) + (length ?? 0)
            if received >= size { return size }
        }
    }

    private func send() {
        let sent = request.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        precondition(sent == request.count, "send: \(sent), errno \(errno)")
    }

    /// One request and its whole answer.
    @inline(__always)
    func exchange() {
        send()
        var received = 0
        while received < answerSize {
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + received, answerSize - received, 0) }
            precondition(got > 0, "the edge closed or failed: \(got), errno \(errno)")
            received += got
        }
    }
}

/// The benchmark harness's edge configuration (bench/conf/edge.yaml.tmpl) in front of `upstream`.
func edgeYAML(upstream: Int) -> String {
    """
    listeners:
      - {name: bench, address: "127.0.0.1:0", backlog: 4096}
    event_loops: 1
    timeouts: {client_header: 12s, client_body: 12s, keepalive: 65s, send: 10s, shutdown_grace: 1s}
    limits:
      max_body_size: 10m
      connections_per_client: 10000
      zones:
        bench: {rate: 1000000r/s, capacity: 160000}
    headers:
      add:
        X-Frame-Options: SAMEORIGIN
        X-Content-Type-Options: nosniff
        X-XSS-Protection: "1; mode=block"
        Referrer-Policy: no-referrer-when-downgrade
        Content-Security-Policy: "default-src 'self' https: data: blob: 'unsafe-inline'; frame-ancestors 'self';"
        Permissions-Policy: "geolocation=(), microphone=(), camera=()"
      remove_from_upstream: [Server, X-Powered-By]
    upstreams:
      backend:
        keepalive: 64
        servers: ["127.0.0.1:\(upstream)"]
    routes:
      - {prefix: /, proxy: backend, rate_limit: {zone: bench, burst: 500, nodelay: true}}
    logging: {access_log: "off", error_log: "off"}

    """
}

let benchmarks: @Sendable () -> Void = {
    for (label, path) in [("a short path", "/bench"), ("a 32-byte path", "/api/racks/42/layout?expand=true")] {
        Benchmark(
            "Keep-alive HTTP/1.1 request through the edge, \(label) (600-byte answer)",
            configuration: .init(
                metrics: [.mallocCountTotal, .wallClock, .throughput, .cpuTotal], scalingFactor: .kilo,
                maxDuration: .seconds(5), maxIterations: 1_000)
        ) { benchmark in
            guard let client = Servers.shared?.client else { return benchmark.error("the servers did not start") }
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { client.exchange() }
            benchmark.stopMeasurement()
        } setup: {
            Servers.shared = try await Servers(path: path)
        } teardown: {
            await Servers.shared?.stop()
            Servers.shared = nil
        }
    }
}

/// The upstream, the edge and a client connected through it, from setup to teardown.
final class Servers {
    nonisolated(unsafe) static var shared: Servers?
    let upstream: EventLoopGroup<HelloHandler>
    let edge: EdgeServer
    let client: KeepAliveClient

    init(path: String) async throws {
        var upstreamConfiguration = HelloHandler.Configuration()
        upstreamConfiguration.body = [UInt8](repeating: UInt8(ascii: "x"), count: 600)
        let handler = upstreamConfiguration
        upstream = try EventLoopGroup<HelloHandler>(
            configuration: EventLoopConfiguration(host: "127.0.0.1", port: 0, loopCount: 1)
        ) { _ in HelloHandler(configuration: handler) }
        let config = try ConfigLoader.parse(yaml: edgeYAML(upstream: upstream.port), source: "benchmark.yaml", environment: [:])
        edge = try await EdgeServer.start(config: config)
        guard let port = edge.listenerAddresses.first?.port else { fatalError("the edge has no listener") }
        client = KeepAliveClient(port: port, path: path)
        // The budget is the steady state's: pools, tables and timers grown first.
        for _ in 0..<20_000 { client.exchange() }
    }

    func stop() async {
        await edge.shutdown(grace: .seconds(1))
        upstream.stop()
    }
}
