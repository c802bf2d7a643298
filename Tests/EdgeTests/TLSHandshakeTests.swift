import NIOCore
import NIOHTTP2
import NIOSSL
import Testing

@testable import Edge

/// Real TLS handshakes against the edge on loopback, with per-run certificates from the
/// `openssl` CLI: protocol versions, TLS 1.2 cipher suites, SNI certificate selection, and the
/// handshake metrics.
@Suite("TLS handshakes on loopback")
struct TLSHandshakeTests {
    /// One HTTPS listener with an ECDSA `a.test` certificate (the default) and an RSA `b.test` one.
    static func twoCertificates(_ directory: TLSTestDirectory, _ upstream: TLSTestUpstream) throws -> EdgeConfig {
        let a = try directory.makeCertificate("a.test", kind: .ecdsaP256)
        let b = try directory.makeCertificate("b.test", kind: .rsa2048)
        return try TLSTestConfig.make(
            upstream: upstream,
            listeners: [TLSTestConfig.https(certificates: [a.config(serverNames: ["a.test"]), b.config(serverNames: ["b.test"])])])
    }

    // MARK: Protocol versions

    @Test func tls12AndTls13HandshakesSucceedAndRequestsAreProxiedOverEach() async throws {
        try await withTLSEdge(Self.twoCertificates) { edge, _, _ in
            let port = try edge.port()
            for version in [TLSVersion.tlsv12, .tlsv13] {
                try await withTLSConnection(port: port, .version(version)) { connection in
                    let negotiated = try await connection.tlsVersion()
                    #expect(negotiated == version)
                    let response = try await connection.request(.GET, "/app/hello?v=\(version)")
                    #expect(response.status == 200, "\(version)")
                    #expect(
                        response.body == TLSTestUpstream.body(name: "app", forwardedProto: "https", uri: "/app/hello?v=\(version)"),
                        "\(version): the upstream is told the client came over https")
                }
            }
        }
    }

    @Test func tls10AndTls11HandshakesAreRefusedWithAProtocolVersionAlert() async throws {
        try await withTLSEdge(Self.twoCertificates) { edge, _, _ in
            let port = try edge.port()
            for version in [TLSVersion.tlsv1, .tlsv11] {
                var options = TLSClientOptions()
                options.minimumVersion = .tlsv1
                options.maximumVersion = version
                let error = try #require(await tlsHandshakeError(port: port, options), "a \(version) handshake succeeded")
                // The server's alert, not a local client problem (such as no usable suite): the
                // edge saw the ClientHello and refused the version.
                #expect("\(error)".contains("PROTOCOL_VERSION"), "\(version): \(error)")
            }
            // The same client allowed to go up to TLS 1.2 gets in: the refusal was the version.
            var upTo12 = TLSClientOptions()
            upTo12.minimumVersion = .tlsv1
            upTo12.maximumVersion = .tlsv12
            try await withTLSConnection(port: port, upTo12) { connection in
                let negotiated = try await connection.tlsVersion()
                #expect(negotiated == .tlsv12)
            }
        }
    }

    // MARK: Cipher suites

    @Test func weakTls12SuitesAreRefusedAndEcdheGcmSuitesAccepted() async throws {
        try await withTLSEdge(Self.twoCertificates) { edge, _, _ in
            let port = try edge.port()
            func tls12(_ suites: [NIOTLSCipher], serverName: String) -> TLSClientOptions {
                var options = TLSClientOptions.version(.tlsv12, serverName: serverName)
                options.cipherSuites = suites
                return options
            }
            // Static RSA key exchange with CBC, offered to the RSA certificate (so only the
            // suite policy can refuse it); then CBC with ECDHE, for both key types.
            let weak: [(NIOTLSCipher, String)] = [
                (.TLS_RSA_WITH_AES_128_CBC_SHA, "b.test"),
                (.TLS_RSA_WITH_AES_256_GCM_SHA384, "b.test"),
                (.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "b.test"),
                (.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "a.test"),
            ]
            for (suite, name) in weak {
                let error = try #require(
                    await tlsHandshakeError(port: port, tls12([suite], serverName: name)), "\(suite) was accepted")
                #expect("\(error)".contains("HANDSHAKE_FAILURE"), "\(suite): \(error)")
            }
            let strong: [(NIOTLSCipher, String)] = [
                (.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "a.test"),
                (.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "a.test"),
                (.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "b.test"),
                (.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "b.test"),
            ]
            for (suite, name) in strong {
                try await withTLSConnection(port: port, tls12([suite], serverName: name)) { connection in
                    let response = try await connection.request(.GET, "/app/suite", host: name)
                    #expect(response.status == 200, "\(suite)")
                }
            }
        }
    }

    // MARK: SNI

    @Test func sniSelectsTheCertificateByNameAndFallsBackToTheFirst() async throws {
        var der: [String: [UInt8]] = [:]
        try await withTLSEdge({ directory, upstream in
            let a = try directory.makeCertificate("a.test", kind: .ecdsaP256)
            let b = try directory.makeCertificate("b.test", kind: .rsa2048)
            let c = try directory.makeCertificate("c.test", kind: .ecdsaP256, extraNames: ["*.c.test"])
            der = ["a": a.der, "b": b.der, "c": c.der]
            return try TLSTestConfig.make(
                upstream: upstream,
                listeners: [
                    TLSTestConfig.https(certificates: [
                        a.config(serverNames: ["a.test"]), b.config(serverNames: ["b.test"]), c.config(serverNames: ["*.c.test"]),
                    ])
                ])
        }) { edge, _, _ in
            let port = try edge.port()
            let cases: [(serverName: String?, expected: String)] = [
                ("b.test", "b"), ("B.Test", "b"), ("a.test", "a"), (nil, "a"), ("unknown.test", "a"),
                ("www.c.test", "c"), ("deep.www.c.test", "a"), ("c.test", "a"),
            ]
            for version in [TLSVersion.tlsv12, .tlsv13] {
                for (serverName, expected) in cases {
                    var options = TLSClientOptions.version(version, serverName: serverName)
                    options.alpn = ["http/1.1"]
                    try await withTLSConnection(port: port, options) { connection in
                        let leaf = try await connection.peerCertificateDER()
                        #expect(leaf == der[expected], "SNI \(serverName ?? "none") over \(version) should get \(expected).test's certificate")
                        // Both key types serve requests, not just handshakes.
                        let response = try await connection.request(.GET, "/app/sni", host: serverName ?? "a.test")
                        #expect(response.status == 200, "SNI \(serverName ?? "none") over \(version)")
                    }
                }
            }
        }
    }

    // MARK: From YAML

    @Test func listenersLoadedFromYAMLTerminateTLSAndRedirect() async throws {
        var certificates: [String: [UInt8]] = [:]
        try await withTLSEdge({ directory, upstream in
            let a = try directory.makeCertificate("a.test")
            let b = try directory.makeCertificate("b.test", kind: .rsa2048)
            certificates = ["a": a.der, "b": b.der]
            let yaml = """
                listeners:
                  - name: public
                    address: 127.0.0.1:0
                    tls:
                      certificates:
                        - {certificate: "\(a.certificatePath)", key: "\(a.keyPath)", server_names: [a.test]}
                        - {certificate: "\(b.certificatePath)", key: "\(b.keyPath)", server_names: [b.test]}
                      http2_limits: {max_concurrent_streams: 9}
                  - name: redirect
                    address: 127.0.0.1:0
                    https_redirect: {primary_name: a.test, server_names: [b.test], https_port: 8443}
                event_loops: 2
                # Long, as TLSTestConfig's: on a loaded machine the test may wait seconds between
                # its handshake and its request.
                timeouts: {client_header: 60s, keepalive: 60s}
                logging: {access_log: "off", error_log: "off"}
                upstreams:
                  app:
                    servers: ["\(upstream.address)"]
                routes:
                  - {prefix: /app/, proxy: app}

                """
            return try ConfigLoader.parse(yaml: yaml, source: "tls-listeners.yaml", environment: [:])
        }) { edge, _, _ in
            var options = TLSClientOptions.version(.tlsv13, serverName: "b.test")
            options.alpn = ["h2", "http/1.1"]
            try await withTLSConnection(port: try edge.port(0), options) { connection in
                #expect(connection.negotiatedProtocol == "h2")
                let leaf = try await connection.peerCertificateDER()
                #expect(leaf == certificates["b"])
                let response = try await connection.request(.GET, "/app/yaml", host: "b.test")
                #expect(response.body == TLSTestUpstream.body(name: "app", forwardedProto: "https", uri: "/app/yaml"))
                try await tlsEventually("the server's SETTINGS frame") { connection.log.settings != nil }
                #expect(connection.log.settings?.first { $0.parameter == .maxConcurrentStreams }?.value == 9)
            }
            let redirect = try await tlsRequest(port: try edge.port(1), nil, .GET, "/x?y", host: "evil.example")
            #expect(redirect.status == 301)
            #expect(redirect.values("Location") == ["https://a.test:8443/x?y"])
        }
    }

    // MARK: Metrics

    @Test func handshakesAndFailuresAreCountedInTheAdminMetrics() async throws {
        try await withTLSEdge(Self.twoCertificates) { edge, _, _ in
            let port = try edge.port()
            var http1 = TLSClientOptions()
            http1.alpn = ["http/1.1"]
            var h2 = TLSClientOptions()
            h2.alpn = ["h2", "http/1.1"]
            for options in [http1, http1, h2] {
                try await withTLSConnection(port: port, options) { connection in
                    _ = try await connection.request(.GET, "/app/metrics")
                }
            }
            var tls11 = TLSClientOptions()
            tls11.minimumVersion = .tlsv1
            tls11.maximumVersion = .tlsv11
            #expect(await tlsHandshakeError(port: port, tls11) != nil)
            var weak = TLSClientOptions.version(.tlsv12, serverName: "b.test")
            weak.cipherSuites = [.TLS_RSA_WITH_AES_128_CBC_SHA]
            #expect(await tlsHandshakeError(port: port, weak) != nil)
            // Plain HTTP sent to the TLS port, and bytes of another protocol altogether.
            let plain = try await TLSTestConnection.connect(port: port, tls: nil)
            _ = try? await plain.request(.GET, "/app/plain")
            await plain.close()
            _ = try await tlsRawExchange(port: port, "SSH-2.0-OpenSSH_9.2p1\r\n")

            let expected = [
                "edge_tls_handshakes_total{protocol=\"http/1.1\"}": 2.0,
                "edge_tls_handshakes_total{protocol=\"h2\"}": 1,
                "edge_tls_handshake_failures_total{reason=\"protocol_version\"}": 1,
                "edge_tls_handshake_failures_total{reason=\"no_shared_cipher\"}": 1,
                "edge_tls_handshake_failures_total{reason=\"not_tls\"}": 2,
            ]
            var metrics = ""
            do {
                try await tlsEventually("the handshake counters") {
                    metrics = try await edge.metrics()
                    return expected.allSatisfy { tlsMetricValue(metrics, $0.key) >= $0.value }
                }
            } catch {
                Issue.record("\(error); /metrics TLS lines:\n\(metrics.split(separator: "\n").filter { $0.contains("tls") }.joined(separator: "\n"))")
            }
            for (series, value) in expected {
                #expect(tlsMetricValue(metrics, series) == value, "\(series)")
            }
            #expect(metrics.contains("# TYPE edge_tls_handshakes_total counter"))
            #expect(metrics.contains("# TYPE edge_tls_handshake_failures_total counter"))
        }
    }
}
