import EdgeIO
import EdgeIOProxy
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The HTTP/1.1 proxy fixture on the core (``ProxyHandler``), between raw clients and a test
/// upstream: keep-alive on both sides, pooled upstream connections, bodies both ways, chunked
/// responses, close paths and failures. Its clients block (bodies up to 10 MB), each call on a
/// thread of its own (``ResponseReader``'s async methods), so the tests run in parallel without
/// holding the cooperative pool's two threads.
@Suite(.timeLimit(.minutes(3)))
struct ProxyServerTests {
    static func server(_ upstream: TestUpstream, loops: Int = 1) throws -> ProxyServer {
        let address =
            if let path = upstream.unixPath { try SocketAddress(unixPath: path) } else {
                try SocketAddress(host: "127.0.0.1", port: UInt16(upstream.port))
            }
        return try ProxyServer(
            listen: EventLoopConfiguration(loopCount: loops), upstreams: [address])
    }

    @Test func keepAliveRequestsShareOnePooledUpstreamConnection() async throws {
        let upstream = try TestUpstream()
        defer { upstream.stop() }
        let proxy = try Self.server(upstream)
        defer { proxy.stop() }
        let client = try ResponseReader(port: proxy.port)
        for _ in 0..<20 {
            try await client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            let response = try #require(try await client.next())
            #expect(response.status == 200)
            #expect(response.body == pattern(count: 600))
            #expect(response.headers["x-upstream-connection"] == "1")
            #expect(response.headers["server"] == nil)  // dropped by the policy
            #expect(response.headers["x-powered-by"] == nil)
            #expect(response.headers["x-frame-options"] == "SAMEORIGIN")
            #expect(response.headers["x-request-id"]?.count == 32)
        }
        #expect(upstream.connections == 1)
        let statistics = await proxy.statistics()
        #expect(statistics[0].requests == 20)
        #expect(statistics[0].upstreamConnectsStarted == 1)
        #expect(statistics[0].upstreamReuses == 19)
        #expect(statistics[0].idlePooled == 1)
        #expect(statistics[0].buffersInUse == 0)
    }

    @Test func connectionCloseClientsStillReuseThePooledUpstream() async throws {
        let upstream = try TestUpstream()
        defer { upstream.stop() }
        let proxy = try Self.server(upstream)
        defer { proxy.stop() }
        for _ in 0..<5 {
            let client = try ResponseReader(port: proxy.port)
            try await client.send("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            let response = try #require(try await client.next())
            #expect(response.status == 200)
            #expect(response.headers["connection"] == "close")
            #expect(response.body.count == 600)
            #expect(try await client.next() == nil)  // then the end of the stream, nothing more
        }
        #expect(upstream.connections == 1)
    }

    @Test func http10ClientGetsTheResponseThenTheClose() async throws {
        let upstream = try TestUpstream()
        defer { upstream.stop() }
        let proxy = try Self.server(upstream)
        defer { proxy.stop() }
        let client = try ResponseReader(port: proxy.port)
        try await client.send("GET /len/5000 HTTP/1.0\r\nHost: test\r\n\r\n")
        let response = try #require(try await client.next())
        #expect(response.status == 200)
        #expect(response.body == pattern(count: 5000))
        #expect(try await client.next() == nil)
    }

    @Test(arguments: [0, 1, 64 * 1024, 10 * 1024 * 1024])
    func bodiesGoThroughIntactBothWays(size: Int) async throws {
        let upstream = try TestUpstream()
        defer { upstream.stop() }
        let proxy = try Self.server(upstream)
        defer { proxy.stop() }
        let client = try ResponseReader(port: proxy.port)
        let body = pattern(count: size).reversed() as [UInt8]
        for _ in 0..<2 {  // twice: the connection stays usable after a large exchange
            try await client.send(Array("POST /len/\(size) HTTP/1.1\r\nHost: test\r\nContent-Length: \(size)\r\n\r\n".utf8) + body)
            let response = try #require(try await client.next())
            #expect(response.status == 200)
            #expect(response.headers["x-request-body-length"] == "\(size)")
            #expect(response.headers["x-request-body-sum"] == "\(checksum(body))")
            #expect(response.body.count == size)
            #expect(checksum(response.body) == checksum(pattern(count: size)))
        }
        let statistics = await proxy.statistics()
        #expect(upstream.connections == 1, "\(statistics)")
    }

    @Test func chunkedRequestBodyIsRelayedAsItCame() async throws {
        let upstream = try TestUpstream()
        defer { upstream.stop() }
        let proxy = try Self.server(upstream)
        defer { proxy.stop() }
        let client = try ResponseReader(port: proxy.port)
        let body = pattern(count: 100_000)
        var request = Array("POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        var offset = 0
        while offset < body.count {
            let n = min(30_000, body.count - offset)
            request += Array("\(String(n, radix: 16))\r\n".utf8) + body[offset..<offset + n] + [13, 10]
            offset += n
        }
        request += Array("0\r\n\r\n".utf8)
        try await client.send(request)
        let response = try #require(try await client.next())
        #expect(response.headers["x-request-body-length"] == "100000")
        #expect(response.headers["x-request-body-sum"] == "\(checksum(body))")
    }

    @Test func requestBodiesOverTheLimitGet413AndNeverReachTheUpstreamWhole() async throws {
        let upstream = try TestUpstream()
        defer { upstream.stop() }
        let address = try SocketAddress(host: "127.0.0.1", port: UInt16(upstream.port))
        let proxy = try ProxyServer(
            listen: EventLoopConfiguration(loopCount: 1), upstreams: [address], configuration: .init(maxRequestBody: 50_000))
        defer { proxy.stop() }
        // A declared length over the limit: refused before anything goes upstream.
        let declared = try ResponseReader(port: proxy.port)
        try await declared.send("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 50001\r\n\r\n")
        #expect(try await declared.next()?.status == 413)
        #expect(upstream.connections == 0)
        // A chunked body that goes over while it streams: 413 as the third chunk's size line
        // arrives (60,000 > 50,000 announced), and the upstream, which had the head and the
        // first chunks, is reset instead of seeing the body end.
        let chunked = try ResponseReader(port: proxy.port)
        var request = Array("POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        for _ in 0..<4 { request += Array("4e20\r\n".utf8) + pattern(count: 20_000) + [13, 10] }
        request += Array("0\r\n\r\n".utf8)
        try await chunked.send(request)
        #expect(try await chunked.next()?.status == 413)
        // Within the limit, the same client shape goes through.
        let within = try ResponseReader(port: proxy.port)
        var small = Array("POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        small += Array("4e20\r\n".utf8) + pattern(count: 20_000) + Array("\r\n0\r\n\r\n".utf8)
        try await within.send(small)
        let response = try #require(try await within.next())
        #expect(response.status == 200)
        #expect(response.headers["x-request-body-length"] == "20000")
        #expect(upstream.requestsRead == 1)
        let statistics = await proxy.waitFor { $0.map(\.connections).reduce(0, +) <= 1 }
        #expect(statistics.map(\.buffersInUse).reduce(0, +) <= 1)
    }

    @Test func aRequestOnAPooledConnectionClosedUnderItIsSentAgainOnANewOne() async throws {
        let upstream = try TestUpstream()
        defer { upstream.stop() }
        let proxy = try Self.server(upstream)
        defer { proxy.stop() }
        let client = try ResponseReader(port: proxy.port)
        // The first answer leaves its upstream connection pooled, and that connection closes
        // under the next request: a GET is replayed on a new connection and answered.
        try await client.send("GET /stale-next HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(try await client.next()?.status == 200)
        try await client.send("GET /len/100 HTTP/1.1\r\nHost: test\r\n\r\n")
        let replayed = try #require(try await client.next())
        #expect(replayed.status == 200)
        #expect(replayed.body.count == 100)
        var statistics = await proxy.statistics()
        #expect(statistics.map(\.upstreamReplays).reduce(0, +) == 1)
        #expect(upstream.connections == 2)
        // Not replayed: a request with a body, and a method that is not idempotent.
        try await client.send("GET /stale-next HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(try await client.next()?.status == 200)
        try await client.send("PUT /len/5 HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\nabc")
        #expect(try await client.next()?.status == 502)
        let again = try ResponseReader(port: proxy.port)
        try await again.send("GET /stale-next HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(try await again.next()?.status == 200)
        try await again.send("POST /len/5 HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(try await again.next()?.status == 502)
        statistics = await proxy.waitFor { $0.map(\.buffersInUse).reduce(0, +) == 0 }
        #expect(statistics.map(\.upstreamReplays).reduce(0, +) == 1)
        #expect(statistics.map(\.badGateway).reduce(0, +) == 2)
    }

    @Test func chunkedResponseIsRelayedIntactAndTheConnectionKept() async throws {
        let upstream = try TestUpstream()
        defer { upstream.stop() }
        let proxy = try Self.server(upstream)
        defer { proxy.stop() }
        let client = try ResponseReader(port: proxy.port)
        for size in [0, 1, 100_000, 3_000_000] {
            try await client.send("GET /chunked/\(size) HTTP/1.1\r\nHost: test\r\n\r\n")
            let response = try #require(try await client.next())
            #expect(response.headers["transfer-encoding"] == "chunked")
            #expect(response.body == pattern(count: size))
        }
        #expect(upstream.connections == 1)
    }

    @Test func upstreamClosingMidResponseClosesTheClientConnection() async throws {
        let upstream = try TestUpstream()
        defer { upstream.stop() }
        let proxy = try Self.server(upstream)
        defer { proxy.stop() }
        let client = try ResponseReader(port: proxy.port)
        try await client.send("GET /cut/200000 HTTP/1.1\r\nHost: test\r\n\r\n")
        // The head says 200,000 bytes; the stream ends after 100,000: a truncated response,
        // never a complete one.
        await #expect(throws: TestFailure.self) { _ = try await client.next() }
        #expect(client.receivedBodyBytes == 100_000)
        let statistics = await proxy.waitFor { $0[0].connections == 0 && $0[0].idlePooled == 0 }
        #expect(statistics[0].connections == 0)
        #expect(statistics[0].buffersInUse == 0)
    }

    @Test func upstreamDownGets502() async throws {
        // A port bound but not listening (kept so no other test can take it): refused.
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(probe, $0, length)
                return getsockname(probe, $0, &length)
            }
        }
        let proxy = try ProxyServer(
            listen: EventLoopConfiguration(),
            upstreams: [try SocketAddress(host: "127.0.0.1", port: UInt16(bigEndian: address.sin_port))])
        defer { proxy.stop() }
        let client = try ResponseReader(port: proxy.port)
        // A request read whole leaves its connection usable after the 502...
        try await client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        let response = try #require(try await client.next())
        #expect(response.status == 502)
        // ...and the next one, which asks to close, gets its 502 and the close.
        try await client.send("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        #expect(try #require(try await client.next()).status == 502)
        #expect(try await client.next() == nil)
        let statistics = await proxy.waitFor { $0[0].connections == 0 }
        #expect(statistics[0].badGateway == 2)
        #expect(statistics[0].timersArmed == 0)
    }

    @Test func upstreamNotAnsweringInTimeGets504AndItsConnectionDropped() async throws {
        let upstream = try TestUpstream()
        defer { upstream.stop() }
        let proxy = try ProxyServer(
            listen: EventLoopConfiguration(),
            upstreams: [try SocketAddress(host: "127.0.0.1", port: UInt16(upstream.port))], configuration: .init(upstreamTimeout: 300))
        defer { proxy.stop() }
        let client = try ResponseReader(port: proxy.port)
        try await client.send("GET /hang HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(try await client.next()?.status == 504)
        #expect(try await client.next() == nil)
        client.client.close()
        let statistics = await proxy.waitFor { $0[0].connections == 0 }
        #expect(statistics[0].connections == 0)  // the upstream connection was not pooled
        #expect(statistics[0].idlePooled == 0)
    }

    @Test func pooledConnectionClosedByTheUpstreamIsDropped() async throws {
        let upstream = try TestUpstream()
        defer { upstream.stop() }
        let proxy = try Self.server(upstream)
        defer { proxy.stop() }
        let client = try ResponseReader(port: proxy.port)
        try await client.send("GET /bye HTTP/1.1\r\nHost: test\r\n\r\n")  // answered, then closed upstream
        #expect(try await client.next()?.status == 200)
        let dropped = await proxy.waitFor { $0[0].idlePooled == 0 && $0[0].connections == 1 }
        #expect(dropped[0].idlePooled == 0)
        try await client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        let response = try #require(try await client.next())
        #expect(response.status == 200)
        #expect(response.headers["x-upstream-connection"] == "2")
    }

    @Test func pooledConnectionIdleTooLongIsClosedByTheProxy() async throws {
        let upstream = try TestUpstream()
        defer { upstream.stop() }
        let proxy = try ProxyServer(
            listen: EventLoopConfiguration(),
            upstreams: [try SocketAddress(host: "127.0.0.1", port: UInt16(upstream.port))], configuration: .init(upstreamIdleTimeout: 200))
        defer { proxy.stop() }
        let client = try ResponseReader(port: proxy.port)
        try await client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(try await client.next()?.headers["x-upstream-connection"] == "1")
        let swept = await proxy.waitFor { $0[0].idlePooled == 0 && $0[0].connections == 1 && $0[0].timersArmed == 1 }
        #expect(swept[0].idlePooled == 0)
        #expect(swept[0].timersArmed == 1)  // the client's idle timer only: the sweep stopped
        try await client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(try await client.next()?.headers["x-upstream-connection"] == "2")
    }

    @Test func unixSocketUpstreamIsPooledToo() async throws {
        let path = NSTemporaryDirectory() + "edgeio-up-\(UInt32.random(in: 0...UInt32.max)).sock"
        let upstream = try TestUpstream(unixPath: path)
        defer { upstream.stop() }
        let proxy = try Self.server(upstream)
        defer { proxy.stop() }
        let client = try ResponseReader(port: proxy.port)
        for _ in 0..<10 {
            try await client.send("GET /len/70000 HTTP/1.1\r\nHost: test\r\n\r\n")
            let response = try #require(try await client.next())
            #expect(response.body == pattern(count: 70_000))
        }
        #expect(upstream.connections == 1)
        let statistics = await proxy.statistics()
        #expect(statistics[0].upstreamReuses == 9)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let upstream = try TestUpstream()
        defer { upstream.stop() }
        let proxy = try Self.server(upstream)
        defer { proxy.stop() }
        let client = try ResponseReader(port: proxy.port)
        var requests = ""
        for i in 1...30 { requests += "GET /len/\(i) HTTP/1.1\r\nHost: test\r\n\r\n" }
        try await client.send(requests)
        for i in 1...30 {
            let response = try #require(try await client.next())
            #expect(response.body == pattern(count: i))
        }
    }

    @Test func clientHalfCloseAfterTheRequestStillGetsTheResponse() async throws {
        let upstream = try TestUpstream()
        defer { upstream.stop() }
        let proxy = try Self.server(upstream)
        defer { proxy.stop() }
        let client = try ResponseReader(port: proxy.port)
        try await client.send("GET /len/300000 HTTP/1.1\r\nHost: test\r\n\r\n")
        client.client.shutdownWrite()
        let response = try #require(try await client.next())
        #expect(response.body == pattern(count: 300_000))
        #expect(try await client.next() == nil)
    }

    @Test func aHeadThatStopsHalfwayGets408AfterTheHeaderTimeout() async throws {
        let upstream = try TestUpstream()
        defer { upstream.stop() }
        let proxy = try ProxyServer(
            listen: EventLoopConfiguration(),
            upstreams: [try SocketAddress(host: "127.0.0.1", port: UInt16(upstream.port))],
            configuration: .init(clientHeaderTimeout: 200))
        defer { proxy.stop() }
        let client = try ResponseReader(port: proxy.port)
        try await client.send("GET / HTTP/1.1\r\nHost: te")
        let response = try #require(try await client.next())
        #expect(response.status == 408)
        #expect(try await client.next() == nil)
        #expect(upstream.connections == 0)
    }

    @Test func malformedRequestGets400AndTheClose() async throws {
        let upstream = try TestUpstream()
        defer { upstream.stop() }
        let proxy = try Self.server(upstream)
        defer { proxy.stop() }
        let client = try ResponseReader(port: proxy.port)
        try await client.send("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc")
        #expect(try await client.next()?.status == 400)
        #expect(try await client.next() == nil)
        #expect(upstream.connections == 0)
    }

    @Test func tlsClientsAreProxiedOverKeepAliveWithHTTPSFields() async throws {
        let pki = try TestPKI()
        let upstream = try TestUpstream()
        defer { upstream.stop() }
        let context = try TLSContext(
            configuration: .init(
                certificates: [.init(chainPath: pki.path("a.pem"), keyPath: pki.path("a.key"))],
                applicationProtocols: ["http/1.1"]))
        let proxy = try ProxyServer(
            listen: EventLoopConfiguration(), tlsListen: EventLoopConfiguration(tls: context),
            upstreams: [try SocketAddress(host: "127.0.0.1", port: UInt16(upstream.port))])
        defer { proxy.stop() }
        let url = "https://a.test:\(proxy.tlsPort)/chunked/70000"
        let output = try await runProcess(
            "/usr/bin/curl",
            ["-sS", "--max-time", "10", "--cacert", pki.path("ca.pem"), "--resolve", "a.test:\(proxy.tlsPort):127.0.0.1",
             "-D", "-", url, url, "-o", "/dev/null", "-o", "/dev/null",
             "-w", "%{http_code} %{size_download} %{num_connects}\n"])
        let lines = output.split(separator: "\r\n").flatMap { $0.split(separator: "\n") }
        #expect(lines.filter { $0.hasPrefix("200 ") } == ["200 70000 1", "200 70000 0"])
        #expect(lines.contains("X-Seen-Forwarded-Proto: https"))
        #expect(lines.contains("Strict-Transport-Security: max-age=31536000; includeSubDomains"))
        #expect(upstream.connections == 1)
    }

    @Test func curlFetchesThroughTheProxyOverKeepAlive() async throws {
        let upstream = try TestUpstream()
        defer { upstream.stop() }
        let proxy = try Self.server(upstream)
        defer { proxy.stop() }
        let url = "http://127.0.0.1:\(proxy.port)/chunked/5000"
        let output = try await runProcess(
            "/usr/bin/curl",
            ["-sS", "--max-time", "10", url, url, "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{num_connects}\n"])
        #expect(output.split(separator: "\n") == ["200 5000 1", "200 5000 0"])
    }
}

extension ProxyServer {
    /// Polls the loops' counters until `condition` holds, for at most `timeout` seconds; after
    /// the deadline it asks once more (see ``HelloServer/waitFor(timeout:_:)``).
    func waitFor(timeout: Double = 30, _ condition: ([ProxyServer.Handler.Statistics]) -> Bool) async
        -> [ProxyServer.Handler.Statistics]
    {
        let deadline = Date().addingTimeInterval(timeout)
        var last = await statistics()
        while !condition(last) {
            if Date() >= deadline { return await statistics() }
            try? await Task.sleep(for: .milliseconds(10))
            last = await statistics()
        }
        return last
    }
}
