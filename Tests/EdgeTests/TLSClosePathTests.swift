import Foundation
import Testing

@testable import Edge

/// Nested in ``ProxyIntegrationTests`` (a serialized suite): these move tens of megabytes through
/// the edge in this process, which would skew the RSS the streaming tests there measure.
extension ProxyIntegrationTests {
    /// The close paths over TLS and HTTP/2, with a real client (`curl`): answers larger than one TLS
    /// record (16 KB) arrive whole with `Connection: close` and HTTP/1.0, where the edge used to send
    /// its `close_notify` before the data; static files of every size over HTTP/1.1 and HTTP/2.
    @Suite("Close paths over TLS and HTTP/2", .serialized)
    struct TLSClosePathTests {
        /// How curl talks to the edge.
        enum CurlMode: String, CaseIterable, CustomTestStringConvertible {
            case keepAliveHTTP11
            case connectionClose
            case http10
            case http2

            var testDescription: String { rawValue }

            var arguments: [String] {
                switch self {
                case .keepAliveHTTP11: ["--http1.1"]
                case .connectionClose: ["--http1.1", "-H", "Connection: close"]
                case .http10: ["--http1.0"]
                case .http2: ["--http2"]
                }
            }
        }

        static let sizes = [10 * 1024, 64 * 1024, 300 * 1024, 4 * 1024 * 1024, 50 * 1024 * 1024]

        /// An HTTPS edge (HTTP/2 on) serving `/files/` from `root` and proxying the rest to `upstream`.
        static func withHTTPSEdge<T>(
            root: String, upstream: TestUpstream, _ body: (_ port: Int, _ edge: EdgeServer) async throws -> T
        ) async throws -> T {
            let directory = try TLSTestDirectory()
            defer { directory.remove() }
            let certificate = try directory.makeCertificate("a.test")
            let yaml = """
                listeners:
                  - name: placeholder
                    address: 127.0.0.1:0
                admin:
                  address: 127.0.0.1:0
                event_loops: 2
                timeouts: {client_header: 60s, client_body: 10s, keepalive: 60s, send: 10s, shutdown_grace: 1s}
                limits: {connections_per_client: 1000}
                logging: {access_log: "off", error_log: "off"}
                upstreams:
                  app:
                    servers: ["\(upstream.address)"]
                routes:
                  - {prefix: /files/, static: {root: "\(root)"}}
                  - {prefix: /, proxy: app}

                """
            var config = try ConfigLoader.parse(yaml: yaml, source: "tls-close.yaml", environment: [:])
            config.listeners = [TLSTestConfig.https(certificates: [certificate.config(serverNames: ["a.test"])])]
            let server = try await EdgeServer.start(config: config)
            do {
                let port = try #require(server.listenerAddresses.first?.port)
                let result = try await body(port, server)
                await server.shutdown(grace: .seconds(1))
                return result
            } catch {
                await server.shutdown(grace: .seconds(1))
                throw error
            }
        }

        /// Fetches `https://a.test:PORT/target` with curl into a file and returns its bytes, the
        /// status and the protocol curl used; fails with curl's message when the transfer fails
        /// (curl exits 18 for a body cut short, 52 for an empty reply).
        static func curl(port: Int, _ target: String, mode: CurlMode, extra: [String] = []) throws
            -> (status: Int, version: String, body: [UInt8])
        {
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("edge-curl-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: output) }
            let arguments = mode.arguments + extra + [
                "-sS", "-k", "--max-time", "60", "--resolve", "a.test:\(port):127.0.0.1", "-o", output,
                "-w", "%{http_code} %{http_version}", "https://a.test:\(port)\(target)",
            ]
            // With -sS curl prints only the -w line on success, and only its error otherwise.
            let (status, written) = try runTool("/usr/bin/curl", arguments, timeout: 90)
            guard status == 0 else {
                throw TestFailure("curl \(mode) \(target) failed with exit \(status): \(written)")
            }
            let parts = written.split(separator: " ")
            let body = FileManager.default.contents(atPath: output).map { [UInt8]($0) } ?? []
            return (Int(parts.first ?? "") ?? 0, parts.count > 1 ? String(parts[1]) : "", body)
        }

        @Test(arguments: CurlMode.allCases)
        func staticFilesAndProxiedAnswersOfEverySizeArriveWhole(mode: CurlMode) async throws {
            try await ProxyIntegrationTests.ClosePathTests.withPatternFiles(Self.sizes) { root in
                try await withUpstreams(["a"]) { upstreams in
                    try await Self.withHTTPSEdge(root: root, upstream: upstreams[0]) { port, _ in
                        for size in Self.sizes {
                            // Static files at every size; proxied answers up to 4 MB here (the plain
                            // HTTP suite proxies 50 MB; the TLS and HTTP/2 paths are the same above 4 MB).
                            for target in ["/files/pattern-\(size)"] + (size <= 4 * 1024 * 1024 ? ["/pattern?bytes=\(size)"] : []) {
                                let (status, version, body) = try await offThePool { try Self.curl(port: port, target, mode: mode) }
                                #expect(status == 200, "\(target) \(mode)")
                                // An HTTP/1.0 request may be answered as HTTP/1.1 (RFC 9110 §2.5), framed for 1.0.
                                let versions = mode == .http2 ? ["2"] : mode == .http10 ? ["1", "1.0", "1.1"] : ["1.1"]
                                #expect(versions.contains(version), "\(target) \(mode): HTTP/\(version)")
                                #expect(body.count == size, "\(target) \(mode): \(body.count) of \(size) bytes")
                                #expect(TestPattern.firstMismatch(body) == nil, "\(target) \(mode)")
                            }
                        }
                    }
                }
            }
        }

        /// Request bodies over TLS reach the upstream whole and in order: one smaller than a TLS
        /// record, and ones spanning many records and many of the edge's reads (OpenSSL reads
        /// ahead, so one read can hold several records and the end of one request).
        @Test(arguments: CurlMode.allCases)
        func requestBodiesOfEverySizeReachTheUpstreamWhole(mode: CurlMode) async throws {
            try await ProxyIntegrationTests.ClosePathTests.withPatternFiles([]) { root in
                try await withUpstreams(["a"]) { upstreams in
                    try await Self.withHTTPSEdge(root: root, upstream: upstreams[0]) { port, _ in
                        for size in [1000, 100 * 1024, 3 * 1024 * 1024] {
                            let file = FileManager.default.temporaryDirectory.appendingPathComponent("edge-upload-\(UUID().uuidString)")
                            defer { try? FileManager.default.removeItem(at: file) }
                            try Data(TestPattern.bytes(0..<size)).write(to: file)
                            let (status, _, body) = try await offThePool {
                                try Self.curl(port: port, "/echo?size=\(size)", mode: mode, extra: ["--data-binary", "@\(file.path)"])
                            }
                            #expect(status == 200, "\(size) \(mode)")
                            let report = try JSONDecoder().decode(EchoReport.self, from: Data(body))
                            #expect(report.method == "POST")
                            #expect(report.bodyLength == size, "\(size) \(mode): \(report.bodyLength) bytes upstream")
                            #expect(report.bodyPatternMismatch == nil, "\(size) \(mode): first wrong byte \(report.bodyPatternMismatch ?? -1)")
                        }
                    }
                }
            }
        }

        @Test func rangesAreServedOverHTTP2() async throws {
            let size = 4 * 1024 * 1024
            try await ProxyIntegrationTests.ClosePathTests.withPatternFiles([size]) { root in
                try await withUpstreams(["a"]) { upstreams in
                    try await Self.withHTTPSEdge(root: root, upstream: upstreams[0]) { port, _ in
                        let output = try await offThePool {
                            try Self.curl(port: port, "/files/pattern-\(size)", mode: .http2, extra: ["-r", "1000000-1999999"])
                        }
                        #expect(output.status == 206)
                        #expect(output.body == TestPattern.bytes(1_000_000..<2_000_000))
                    }
                }
            }
        }

        @Test func theEdgeExportsWhenEachServedCertificateExpires() async throws {
            try await withUpstreams(["a"]) { upstreams in
                try await Self.withHTTPSEdge(root: "/nonexistent", upstream: upstreams[0]) { _, server in
                    let adminPort = try #require(server.adminAddress?.port)
                    let connection = try RawHTTPConnection(port: adminPort)
                    defer { connection.close() }
                    let metrics = try connection.request("GET", "/metrics").text
                    let expiry = try #require(
                        metricValue(metrics, "edge_tls_certificate_expiry_timestamp_seconds{listener=\"https\",server_name=\"a.test\"}"))
                    // The test certificate is valid for two days from now.
                    let now = Date().timeIntervalSince1970
                    #expect(expiry > now + 86_400 && expiry < now + 3 * 86_400, "expiry \(expiry), now \(now)")
                }
            }
        }
    }
}
