import EdgeIO
import EdgeIOHello
import Foundation
import Testing

/// HTTP/2 (nghttp2 sessions per connection) behind TLS with ALPN h2, checked with nghttp,
/// h2load and curl.
@Suite(.timeLimit(.minutes(3)))
struct HTTP2ServerTests {
    let pki: TestPKI

    init() async throws { pki = try await offThePool { try TestPKI() } }

    func server(loops: Int = 1) throws -> HelloServer {
        let context = try TLSContext(
            configuration: .init(
                certificates: [.init(chainPath: pki.path("a.pem"), keyPath: pki.path("a.key"))],
                applicationProtocols: ["h2", "http/1.1"]))
        return try HelloServer(loops: loops, tls: context)
    }

    @Test func nghttpGetsTheResponseOverH2() async throws {
        let server = try server()
        defer { server.stop() }
        let output = try await runTool("/usr/bin/nghttp", ["-nv", "-t", "10", "https://127.0.0.1:\(server.port)/"])
        #expect(output.contains(":status: 200"))
        #expect(output.contains("SETTINGS_MAX_CONCURRENT_STREAMS(0x03):128"))
        #expect(output.contains("recv GOAWAY") == false || output.contains("NO_ERROR"))
    }

    @Test func h2loadCompletesEveryRequestOnMultiplexedStreams() async throws {
        let server = try server(loops: 2)
        defer { server.stop() }
        let output = try await runTool(
            "/usr/bin/h2load", ["-n", "2000", "-c", "4", "-m", "16", "-T", "10", "https://127.0.0.1:\(server.port)/"], timeout: 60)
        #expect(output.contains("2000 succeeded, 0 failed, 0 errored"))
        #expect(output.contains("Application protocol: h2"))
        let statistics = await server.waitFor { $0.map(\.connections).reduce(0, +) == 0 }
        #expect(statistics.map(\.requests).reduce(0, +) == 2000)
        #expect(statistics.map(\.buffersInUse).reduce(0, +) == 0)
    }

    @Test func curlNegotiatesH2AndReusesTheConnection() async throws {
        let server = try server()
        defer { server.stop() }
        let url = "https://a.test:\(server.port)/"
        let output = try await runTool(
            "/usr/bin/curl",
            ["-sS", "--http2", "--max-time", "10", "--cacert", pki.path("ca.pem"), "--resolve", "a.test:\(server.port):127.0.0.1",
             url, url, "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_version} %{http_code} %{num_connects}\n"])
        #expect(output.split(separator: "\n") == ["2 200 1", "2 200 0"])
    }
}
